import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { stringify } from "yaml";
import type { ProgressWindow, Summary } from "../daemon/pipeline/run-stats.js";
import { EdgeError } from "../daemon/util/errors.js";

// The daemon as `npm start` and the systemd unit run it: through its launcher, with its memory settings.
const LAUNCHER = fileURLToPath(new URL("../../bin/edge-inspect", import.meta.url));

/** One progress line of the daemon: counters so far and the window since the previous line. */
export interface Progress {
  tS: number;
  triggered: number;
  failsafe: number;
  window: ProgressWindow;
}

export interface DaemonRun {
  /** The first line's (the only one's, on most stations). */
  summary: Summary;
  /** Every line's, by name. */
  lines: Record<string, Summary>;
  progress: Progress[];
  exitCode: number;
}

/**
 * Runs the daemon as its own process (`edge-inspect run --duration`), so that
 * its CPU and memory are its own and not the bench's, and collects its
 * progress lines and end-of-run summary.
 */
export async function runDaemon(config: Record<string, unknown>, seconds: number, opts: { cpuProfileDir?: string } = {}): Promise<DaemonRun> {
  const dir = mkdtempSync(join(tmpdir(), "ei-bench-"));
  try {
    const configFile = join(dir, "line.yaml");
    const summaryFile = join(dir, "summary.json");
    writeFileSync(configFile, stringify({ ...config, data_dir: join(dir, "data") }));
    const args = ["run", "--config", configFile, "--duration", String(seconds), "--summary-json", summaryFile];
    // EDGE_INSPECT_* overlays the daemon's config: the bench's own settings are not for it.
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("EDGE_INSPECT_BENCH_")));
    const child = opts.cpuProfileDir ? spawn(process.execPath, [...profiledNode(opts.cpuProfileDir), ...args], { stdio: ["ignore", "pipe", "pipe"], env: profiledEnv(env) }) : spawn(LAUNCHER, args, { stdio: ["ignore", "pipe", "pipe"], env });
    const started = Date.now();
    const progress: Progress[] = [];
    let tail = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      const lines = (tail + chunk).split("\n");
      tail = lines.pop()!;
      for (const l of lines) {
        const p = progressLine(l, started);
        if (p) progress.push(p);
      }
    });
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr = (stderr + chunk).slice(-4000)));
    // Start-up and a graceful stop take seconds; far beyond that the daemon is stuck.
    const killer = setTimeout(() => child.kill("SIGKILL"), (seconds + 120) * 1000);
    const exitCode = await new Promise<number>((resolve) => child.on("close", (code) => resolve(code ?? -1)));
    clearTimeout(killer);
    if (!existsSync(summaryFile)) throw new EdgeError("E_BENCH_DAEMON", `daemon exited ${exitCode} without a summary: ${stderr.trim().split("\n").slice(-5).join(" | ")}`);
    // One line: its summary; several: each under its name.
    const read = JSON.parse(readFileSync(summaryFile, "utf8")) as Summary | { lines: Record<string, Summary> };
    const lines = "lines" in read ? read.lines : { [(config.station as { line?: string } | undefined)?.line ?? "line1"]: read };
    return { summary: Object.values(lines)[0]!, lines, progress, exitCode };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// V8's CPU profiler in every thread (--cpu-prof is refused in NODE_OPTIONS, so not through the
// launcher): node with the launcher's settings (bin/edge-inspect says why each is there).
const MAIN = fileURLToPath(new URL("../daemon/main.js", import.meta.url));
const NO_GDAL = fileURLToPath(new URL("../../build/no-gdal", import.meta.url));
function profiledNode(dir: string): string[] {
  return ["--max-semi-space-size=1", "--cpu-prof", "--cpu-prof-dir", dir, MAIN];
}
function profiledEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = { ...env, MALLOC_ARENA_MAX: env.MALLOC_ARENA_MAX ?? "2" };
  if (existsSync(NO_GDAL)) out.LD_LIBRARY_PATH = [NO_GDAL, env.LD_LIBRARY_PATH].filter(Boolean).join(":");
  return out;
}

function progressLine(line: string, started: number): Progress | undefined {
  if (!line.startsWith("{")) return undefined;
  try {
    const o = JSON.parse(line) as { triggered?: number; failsafe?: number; window?: ProgressWindow };
    if (o.window === undefined || o.triggered === undefined || o.failsafe === undefined) return undefined;
    return { tS: (Date.now() - started) / 1000, triggered: o.triggered, failsafe: o.failsafe, window: o.window };
  } catch {
    return undefined;
  }
}
