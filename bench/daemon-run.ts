import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { stringify } from "yaml";
import type { ProgressWindow, Summary } from "../daemon/pipeline/run-stats.js";
import { EdgeError } from "../daemon/util/errors.js";
import { tasks } from "../daemon/threads/thread-cpu.js";

/** This checkout: its daemon is the one measured unless a run names another (a baseline to compare with). */
const ROOT = fileURLToPath(new URL("../..", import.meta.url));

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
  /** With `sampleThreads`: the daemon's threads' CPU once a second (seconds since spawn; CPU ms by kernel thread id). */
  threadSamples: ThreadSample[];
  /** Seconds from spawn to exit. */
  exitS: number;
}

export interface ThreadSample {
  tS: number;
  cpuMs: Map<number, number>;
}

export interface DaemonRunOptions {
  /** V8's CPU profiler in every thread, its profiles written here. */
  cpuProfileDir?: string;
  /** Read every thread's CPU from /proc once a second while it runs. */
  sampleThreads?: boolean;
  /** The checkout (built) whose daemon runs; default this one. */
  root?: string;
}

/**
 * Runs the daemon as its own process (`edge-inspect run --duration`), so that
 * its CPU and memory are its own and not the bench's, and collects its
 * progress lines and end-of-run summary.
 */
export async function runDaemon(config: Record<string, unknown>, seconds: number, opts: DaemonRunOptions = {}): Promise<DaemonRun> {
  const dir = mkdtempSync(join(tmpdir(), "ei-bench-"));
  try {
    const configFile = join(dir, "line.yaml");
    const summaryFile = join(dir, "summary.json");
    writeFileSync(configFile, stringify({ ...config, data_dir: join(dir, "data") }));
    const args = ["run", "--config", configFile, "--duration", String(seconds), "--summary-json", summaryFile];
    // EDGE_INSPECT_* overlays the daemon's config: the bench's own settings are not for it.
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("EDGE_INSPECT_BENCH_")));
    const root = opts.root ?? ROOT;
    // The daemon as `npm start` and the systemd unit run it: through its launcher, with its memory settings.
    const child = opts.cpuProfileDir
      ? spawn(process.execPath, [...profiledNode(root, opts.cpuProfileDir), ...args], { stdio: ["ignore", "pipe", "pipe"], env: profiledEnv(root, env) })
      : spawn(join(root, "bin/edge-inspect"), args, { stdio: ["ignore", "pipe", "pipe"], env });
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
    const threadSamples: ThreadSample[] = [];
    const sampler = opts.sampleThreads
      ? setInterval(() => {
          const byTid = tasks(child.pid!);
          if (byTid.size > 0) threadSamples.push({ tS: (Date.now() - started) / 1000, cpuMs: new Map([...byTid].map(([tid, t]) => [tid, t.cpuMs])) });
        }, 1000)
      : undefined;
    // Start-up and a graceful stop take seconds; far beyond that the daemon is stuck.
    const killer = setTimeout(() => child.kill("SIGKILL"), (seconds + 120) * 1000);
    const exitCode = await new Promise<number>((resolve) => child.on("close", (code) => resolve(code ?? -1)));
    const exitS = (Date.now() - started) / 1000;
    clearTimeout(killer);
    clearInterval(sampler);
    if (!existsSync(summaryFile)) throw new EdgeError("E_BENCH_DAEMON", `daemon exited ${exitCode} without a summary: ${stderr.trim().split("\n").slice(-5).join(" | ")}`);
    // One line: its summary; several: each under its name.
    const read = JSON.parse(readFileSync(summaryFile, "utf8")) as Summary | { lines: Record<string, Summary> };
    const lines = "lines" in read ? read.lines : { [(config.station as { line?: string } | undefined)?.line ?? "line1"]: read };
    return { summary: Object.values(lines)[0]!, lines, progress, exitCode, threadSamples, exitS };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// V8's CPU profiler in every thread (--cpu-prof is refused in NODE_OPTIONS, so not through the
// launcher): node with the launcher's settings (bin/edge-inspect says why each is there).
/**
 * CPU ms by thread between two moments of a run (seconds since its spawn),
 * from the samples nearest them (`sampleThreads`), scaled to the span asked:
 * each thread as the run's summary names it (main, each worker by its host,
 * the reject core), the rest summed as `native`.
 */
export function threadCpuBetween(run: DaemonRun, fromS: number, toS: number): Record<string, number> {
  if (run.threadSamples.length < 2) throw new EdgeError("E_BENCH_DAEMON", "no per-thread CPU samples: /proc/PID/task is not readable here");
  const nearest = (t: number) => run.threadSamples.reduce((a, b) => (Math.abs(b.tS - t) < Math.abs(a.tS - t) ? b : a));
  const end = nearest(toS);
  const start = nearest(fromS);
  if (end.tS <= start.tS) return {};
  const names = new Map((run.summary.threads ?? []).filter((t) => t.tid > 0).map((t) => [t.tid, t.thread]));
  const out: Record<string, number> = {};
  for (const [tid, ms] of end.cpuMs) {
    const name = names.get(tid) ?? "native";
    out[name] = (out[name] ?? 0) + ms - (start.cpuMs.get(tid) ?? 0);
  }
  const scale = (toS - fromS) / (end.tS - start.tS);
  return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, v * scale]));
}

function profiledNode(root: string, dir: string): string[] {
  return ["--max-semi-space-size=1", "--cpu-prof", "--cpu-prof-dir", dir, join(root, "dist/daemon/main.js")];
}
function profiledEnv(root: string, env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = { ...env, MALLOC_ARENA_MAX: env.MALLOC_ARENA_MAX ?? "2" };
  const noGdal = join(root, "build/no-gdal");
  if (existsSync(noGdal)) out.LD_LIBRARY_PATH = [noGdal, env.LD_LIBRARY_PATH].filter(Boolean).join(":");
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
