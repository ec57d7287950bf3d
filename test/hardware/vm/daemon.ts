import { spawn, type ChildProcess } from "node:child_process";
import { appendFileSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parse, stringify } from "yaml";

export const REPO = fileURLToPath(new URL("../../../../", import.meta.url));
const BIN = join(REPO, "bin", "edge-inspect");
/** Preloaded into a daemon to raise an exception nothing catches on SIGUSR2. */
export const THROW_ON_SIGUSR2 = fileURLToPath(new URL("../../fakes/throw-on-sigusr2.js", import.meta.url));
/** Preloaded into a daemon to block its main thread for a while on SIGUSR2 (stall-on-sigusr2.ts). */
export const STALL_ON_SIGUSR2 = fileURLToPath(new URL("./stall-on-sigusr2.js", import.meta.url));

export interface Summary {
  triggered: number;
  accepted: number;
  rejected: number;
  in_flight: number;
  failsafe_by_reason?: Record<string, number>;
  [k: string]: unknown;
}

export interface Daemon {
  child: ChildProcess;
  output(): string;
  waitFor(re: RegExp, timeoutMs?: number): Promise<void>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  summary(): Summary;
}

/**
 * Start-up and stop bounds for a TCG-emulated VM on a shared host, where
 * loading OpenCV and the engine takes tens of seconds: what is tested here is
 * what the devices saw, not how fast the daemon starts.
 */
const SLOW_VM = {
  line: { first_frame_timeout_ms: 300_000 },
  camera: { open_timeout_ms: 300_000 },
  engine_runtime: { load_timeout_ms: 300_000, hang_timeout_ms: 30_000 },
  lifecycle: { stop_timeout_ms: 120_000 },
};

function withSlowVmBounds(config: string): string {
  const c = (parse(config) ?? {}) as Record<string, Record<string, unknown> | undefined>;
  for (const [section, bounds] of Object.entries(SLOW_VM)) c[section] = { ...bounds, ...c[section] };
  return stringify(c);
}

/** What a daemon start costs here, milestone by milestone: written where the lane collects it (EDGE_HW_STARTS). */
const MILESTONES: Array<[string, RegExp]> = [
  ["first line", /./],
  ["model loaded", /"msg":"model .* loaded on /],
  ["camera open", /"msg":"camera open/],
  ["ready", /"msg":"READY"/],
];

/** `bin/edge-inspect run` with a config, as a station runs it. */
export function startDaemon(config: string, opts: { preload?: string; args?: string[]; env?: Record<string, string> } = {}): Daemon {
  const dir = mkdtempSync("/tmp/ei-hw-");
  const file = join(dir, "line.yaml");
  const summaryFile = join(dir, "summary.json");
  writeFileSync(file, withSlowVmBounds(config));
  const env = { ...process.env, ...opts.env, ...(opts.preload ? { NODE_OPTIONS: `--import=${opts.preload}` } : {}) };
  const child = spawn("sh", [BIN, "run", "--config", file, "--summary-json", summaryFile, ...(opts.args ?? [])], { cwd: dir, env, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  const t0 = Date.now();
  const reached: Record<string, number> = {};
  const collect = (d: Buffer) => {
    out += d.toString();
    for (const [name, re] of MILESTONES) if (reached[name] === undefined && re.test(out)) reached[name] = (Date.now() - t0) / 1000;
  };
  child.stdout!.on("data", collect);
  child.stderr!.on("data", collect);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on("close", (code, signal) => {
      const starts = process.env.EDGE_HW_STARTS;
      if (starts) appendFileSync(starts, JSON.stringify({ ...reached, exit: (Date.now() - t0) / 1000, code }) + "\n");
      resolve({ code, signal });
    }),
  );
  return {
    child,
    output: () => out,
    exited,
    waitFor: (re, timeoutMs = 600_000) =>
      new Promise((resolve, reject) => {
        const t0 = Date.now();
        const poll = setInterval(() => {
          if (re.test(out)) {
            clearInterval(poll);
            resolve();
          } else if (Date.now() - t0 > timeoutMs || child.exitCode !== null) {
            clearInterval(poll);
            reject(new Error(`daemon: no output matching ${re} (${child.exitCode === null ? "timeout" : `exited ${child.exitCode}`}):\n${out.slice(-4000)}`));
          }
        }, 20);
      }),
    summary: () => JSON.parse(readFileSync(summaryFile, "utf8")) as Summary,
  };
}
