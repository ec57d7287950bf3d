import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";
import type { Benchmark, BenchOptions, BenchResult } from "./harness.js";
import { median, printTable } from "./harness.js";
import { bareOnnx, type BareResult } from "./bare-onnx.js";
import { runDaemon, type DaemonRun } from "./daemon-run.js";
import { EdgeError } from "../daemon/util/errors.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const MODEL = `${ROOT}models/defect-demo`;
const VARIANT = "int8";
/** Trigger rates tried in turn until parts fail safe. */
const RATES = [10, 20, 40, 60, 80, 120, 160, 240, 320, 480];
/**
 * Progress windows (one a second) at the start that count as warming up;
 * their fail-safes are counted apart from the steady state's, as are those
 * at the stop (a trigger still waiting for its frame when the camera stops
 * fails safe, as it must).
 */
const WARMUP_WINDOWS = 2;
/** Done-when figures of the issue. */
const GOALS = { throughput_ratio: 0.9, p99_over_bare_ms: 3, pulse_error_p99_ms: 1, loop_lag_p99_ms: 5, peak_rss_mb: 300 };

/**
 * The demo line as `npm start` runs it (synthetic camera, SQLite records,
 * simulated GPIO), except: triggered by a simulated photo-eye at `rateHz`,
 * the camera at twice that frame rate with half a trigger period (one frame
 * period) of tolerance — at the same rate, a camera whose phase happened to
 * fall half a period from the trigger's would miss frames on any jitter — the
 * int8 demo model on onnxruntime with one intra-op thread whatever demo.yaml
 * says, and every part a reject so every part makes a pulse to time.
 */
function lineConfig(rateHz: number, progressMs: number): Record<string, unknown> {
  const demo = parse(readFileSync(`${ROOT}config/demo.yaml`, "utf8")) as Record<string, Record<string, unknown>>;
  const period = 1000 / rateHz;
  return {
    ...demo,
    // EDGE_INSPECT_BENCH_REALTIME=N: the reject core under SCHED_FIFO at priority N (0: a normal thread), as the unit allows.
    actuation: { ...demo.actuation, realtime_priority: realtimePriority() },
    line: { ...demo.line, mode: "triggered", frame_tolerance_ms: Math.max(1, Math.ceil(period / 2)) },
    camera: { ...demo.camera, type: "synthetic", fps: 2 * rateHz },
    trigger: { type: "simulated", rate_hz: rateHz },
    engine: { type: "onnx", package: MODEL, variant: VARIANT, threads: { intra_op: 1, inter_op: 1 } },
    decide: { threshold: 0 },
    // The review server is not part of the line's timing, and its port may be taken.
    http: { enabled: false },
    lifecycle: { ...demo.lifecycle, progress_report_ms: progressMs },
  };
}

function realtimePriority(): number {
  const given = process.env.EDGE_INSPECT_BENCH_REALTIME;
  if (given === undefined || given === "") return 0;
  const n = Number(given);
  if (!Number.isInteger(n) || n < 0 || n > 99) throw new EdgeError("E_BENCH_ARGS", `EDGE_INSPECT_BENCH_REALTIME must be a priority from 0 to 99, got '${given}'`);
  return n;
}

interface Step {
  rate_hz: number;
  parts: number;
  failsafe: number;
  failsafe_warmup: number;
  failsafe_stop: number;
  /** Fail-safe reasons over the whole run. */
  why: string;
  e2e_p50_ms: number;
  e2e_p99_ms: number;
  e2e_max_ms: number;
  capture_wait_p99_ms: number;
  pulse_err_p99_ms: number;
  loop_lag_p99_ms: number;
  cpu_pct: number;
  peak_rss_mb: number;
}

function step(rateHz: number, r: DaemonRun): Step {
  const s = r.summary;
  const warm = r.progress[WARMUP_WINDOWS - 1];
  const last = r.progress[r.progress.length - 1];
  if (!warm || !last || last === warm) throw new EdgeError("E_BENCH_SHORT", `${rateHz} Hz: the run was too short for a steady state (${r.progress.length} progress lines)`);
  const steady = r.progress.slice(WARMUP_WINDOWS);
  return {
    rate_hz: rateHz,
    parts: s.triggered,
    failsafe: last.failsafe - warm.failsafe,
    failsafe_warmup: warm.failsafe,
    failsafe_stop: s.failsafe - last.failsafe,
    why: Object.entries(s.failsafe_by_reason).filter(([, n]) => n > 0).map(([k, n]) => `${k} ${n}`).join(", ") || "-",
    e2e_p50_ms: s.latency_ms.end_to_end.p50,
    e2e_p99_ms: s.latency_ms.end_to_end.p99,
    e2e_max_ms: s.latency_ms.end_to_end.max,
    capture_wait_p99_ms: s.latency_ms.capture.p99,
    pulse_err_p99_ms: s.pulse_error_ms.p99,
    loop_lag_p99_ms: s.event_loop_lag_ms.p99,
    // Start-up (model load, golden images) is left out: steady windows only.
    cpu_pct: median(steady.map((p) => p.window.cpu_percent)),
    peak_rss_mb: s.peak_rss_mb,
  };
}

async function runStep(rateHz: number, seconds: number): Promise<Step> {
  const st = step(rateHz, await runDaemon(lineConfig(rateHz, 1000), seconds));
  process.stderr.write(`pipeline: ${rateHz} Hz: ${st.parts} parts, ${st.failsafe} fail-safe (+${st.failsafe_warmup} warming up, +${st.failsafe_stop} at the stop), p99 ${st.e2e_p99_ms} ms\n`);
  return st;
}

/** Steps the rate up until parts fail safe, then halves the gap to the last good rate twice. */
async function search(seconds: number): Promise<{ steps: Step[]; maxHz: number }> {
  const steps: Step[] = [];
  let ok = 0;
  let bad = 0;
  for (const r of RATES) {
    const s = await runStep(r, seconds);
    steps.push(s);
    if (s.failsafe > 0) {
      bad = r;
      break;
    }
    ok = r;
  }
  for (let i = 0; i < 2 && bad > 0 && ok > 0 && bad - ok > ok * 0.1; i++) {
    const mid = Math.round((ok + bad) / 2);
    const s = await runStep(mid, seconds);
    steps.push(s);
    if (s.failsafe > 0) bad = mid;
    else ok = mid;
  }
  steps.sort((a, b) => a.rate_hz - b.rate_hz);
  return { steps, maxHz: ok };
}

/** Pipeline at its best zero-fail-safe rate against the bare model. */
function limits(best: Step | undefined, bare: BareResult) {
  if (!best) return undefined;
  const ratio = best.rate_hz / bare.parts_per_s;
  const overP99 = best.e2e_p99_ms - bare.p99_ms;
  return {
    max_sustainable_hz: best.rate_hz,
    bare_parts_per_s: bare.parts_per_s,
    throughput_ratio: ratio,
    e2e_p99_ms: best.e2e_p99_ms,
    bare_p99_ms: bare.p99_ms,
    p99_over_bare_ms: overP99,
    checks: {
      throughput: ratio >= GOALS.throughput_ratio,
      latency: overP99 <= GOALS.p99_over_bare_ms,
      pulse: best.pulse_err_p99_ms <= GOALS.pulse_error_p99_ms,
      loop_lag: best.loop_lag_p99_ms <= GOALS.loop_lag_p99_ms,
      rss: best.peak_rss_mb < GOALS.peak_rss_mb,
    },
  };
}

/** The line at 80% of its maximum for `seconds`: RSS and latency per window, first to last. */
async function soak(maxHz: number, seconds: number) {
  const rateHz = Math.max(1, Math.round(maxHz * 0.8));
  // Ten-minute windows for an hour's soak; six windows for a shorter look.
  const windowS = Math.min(600, Math.max(5, Math.round(seconds / 6)));
  const r = await runDaemon(lineConfig(rateHz, windowS * 1000), seconds);
  let prev = { triggered: 0, failsafe: 0 };
  const windows = r.progress.map((p, i) => {
    const w = {
      window: i + 1,
      end_s: Math.round(p.tS),
      parts: p.triggered - prev.triggered,
      failsafe: p.failsafe - prev.failsafe,
      e2e_p50_ms: p.window.end_to_end_ms.p50,
      e2e_p99_ms: p.window.end_to_end_ms.p99,
      e2e_max_ms: p.window.end_to_end_ms.max,
      cpu_pct: p.window.cpu_percent,
      rss_mb: p.window.rss_mb,
    };
    prev = p;
    return w;
  });
  const first = windows[0];
  const last = windows[windows.length - 1];
  const drift = first && last ? { rss_mb: last.rss_mb - first.rss_mb, e2e_p99_ms: last.e2e_p99_ms - first.e2e_p99_ms, rss_range_mb: Math.max(...windows.map((w) => w.rss_mb)) - Math.min(...windows.map((w) => w.rss_mb)) } : undefined;
  return { rate_hz: rateHz, seconds, window_s: windowS, windows, drift, summary: r.summary };
}

export const pipelineBenchmark: Benchmark = {
  name: "pipeline",
  description: "demo line end to end (int8 model, triggered) stepped up to its fail-safe rate, beside bare onnxruntime; --duration S: soak at 80%",
  async run(opts: BenchOptions): Promise<BenchResult> {
    const seconds = Math.max(5, Math.round(10 * opts.scale));
    const bareRuns = Math.max(200, Math.round(2000 * opts.scale));
    // The bare limit before and after the line's steps: the machine may be busier for one of them.
    const bareBefore = await bareOnnx(MODEL, VARIANT, bareRuns);
    // A soak may start from a maximum measured before (the search takes minutes).
    const given = Number(process.env.EDGE_INSPECT_BENCH_MAX_HZ);
    const { steps, maxHz } = opts.duration !== undefined && given > 0 ? { steps: [], maxHz: given } : await search(seconds);
    const bareAfter = await bareOnnx(MODEL, VARIANT, bareRuns);
    const bare = [bareBefore, bareAfter].sort((a, b) => b.parts_per_s - a.parts_per_s)[0]!;
    const lim = limits(
      steps.find((s) => s.rate_hz === maxHz),
      bare,
    );
    printTable("bare onnxruntime (before, after the steps)", [bareBefore, bareAfter].map((b) => ({ runs: b.runs, parts_per_s: b.parts_per_s, p50_ms: b.p50_ms, p99_ms: b.p99_ms })));
    if (lim) printTable("pipeline at its maximum zero-fail-safe rate vs bare onnxruntime (faster of the two)", [{ ...lim, checks: Object.entries(lim.checks).map(([k, v]) => `${k} ${v ? "ok" : "MISSED"}`).join(", ") }]);
    const data: Record<string, unknown> = {
      model: { dir: "models/defect-demo", variant: VARIANT, engine: "onnx", intra_op_threads: 1 },
      realtime_priority: realtimePriority(),
      step_seconds: seconds,
      warmup_windows: WARMUP_WINDOWS,
      goals: GOALS,
      bare: { before: bareBefore, after: bareAfter },
      steps,
      limits: lim ?? null,
    };
    if (opts.duration === undefined) return { rows: steps as unknown as BenchResult["rows"], data };
    if (maxHz === 0) throw new EdgeError("E_BENCH_NO_RATE", `no rate ran without fail-safes (lowest ${RATES[0]} Hz): nothing to soak at`);
    const s = await soak(maxHz, opts.duration);
    if (steps.length > 0) printTable(`steps (${seconds} s each)`, steps as unknown as BenchResult["rows"]);
    data.soak = s;
    process.stderr.write(`pipeline: soak ${s.seconds} s at ${s.rate_hz} Hz, RSS drift ${s.drift?.rss_mb ?? "?"} MB, p99 drift ${s.drift?.e2e_p99_ms ?? "?"} ms\n`);
    return { rows: s.windows, data };
  },
};
