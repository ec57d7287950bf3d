import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";
import type { Benchmark } from "./harness.js";
import { runDaemon, type DaemonRun } from "./daemon-run.js";

const FILE = fileURLToPath(new URL("../../config/two-lines.yaml", import.meta.url));

/**
 * What a second line costs: config/two-lines.yaml (two synthetic lanes on the
 * int8 demo model), its first lane alone, and both lanes with the second on
 * the float32 variant (an engine each), run side by side as daemons of their
 * own for the same seconds, so the machine's load is the same for all three.
 * Peak RSS is the whole process's, every thread's.
 */
export const linesBenchmark: Benchmark = {
  name: "lines",
  description: "peak RSS and CPU of one line, two lines on one shared engine, two lines with an engine each",
  async run(opts) {
    const seconds = opts.duration ?? Math.max(10, Math.round(40 * opts.scale));
    const station = parse(readFileSync(FILE, "utf8")) as Record<string, unknown> & { lines: Record<string, Record<string, unknown>> };
    const { lane1, lane2 } = station.lines as { lane1: Record<string, unknown>; lane2: Record<string, unknown> };
    const cases: Array<[string, Record<string, unknown>]> = [
      ["one line", { ...station, lines: { lane1 } }],
      ["two lines, shared engine", station],
      ["two lines, an engine each", { ...station, lines: { lane1, lane2: { ...lane2, engine: { variant: "float32" } } } }],
    ];
    const runs = await Promise.all(cases.map(([, config]) => runDaemon(config, seconds)));
    const one = runs[0]!.summary.peak_rss_mb;
    const rows = cases.map(([name], i) => row(name, runs[i]!, one));
    return { rows, data: { seconds, cases: cases.map(([name], i) => ({ name, lines: runs[i]!.lines })) } };
  },
};

function row(name: string, r: DaemonRun, oneLineRss: number): Record<string, string | number> {
  const lines = Object.values(r.lines);
  const s = r.summary;
  return {
    case: name,
    lines: lines.length,
    parts: lines.reduce((n, l) => n + l.triggered, 0),
    invariant: lines.every((l) => l.invariant_ok && l.in_flight === 0) ? "ok" : "BROKEN",
    failsafe: lines.reduce((n, l) => n + l.failsafe, 0),
    peak_rss_mb: s.peak_rss_mb,
    rss_ratio: s.peak_rss_mb / oneLineRss,
    cpu_pct: s.cpu_percent,
    lag_p99_ms: s.event_loop_lag_ms.p99,
  };
}
