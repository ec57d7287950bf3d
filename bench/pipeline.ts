import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";
import type { Benchmark, BenchOptions, BenchResult } from "./harness.js";
import { median, printTable } from "./harness.js";
import { bareOnnx, type BareResult } from "./bare-onnx.js";
import { runDaemon, threadCpuBetween, type DaemonRun } from "./daemon-run.js";

/** A thread's share of one core over a window. */
interface ThreadShare {
  thread: string;
  cpu_pct: number;
}
import { writeSyntheticDataset } from "../daemon/capture/synthetic-dataset.js";
import { cv } from "../daemon/vision/opencv.js";
import { EdgeError } from "../daemon/util/errors.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

interface BenchModel {
  dir: string;
  variant: string;
}
/**
 * The models the line is run with, each in the variant a user would deploy:
 * the tiny demo model, and a MobileNetV2 224x224 classifier (the size of
 * model stations run). EDGE_INSPECT_BENCH_MODELS=demo,mobilenet picks.
 */
const MODELS: Record<string, BenchModel> = {
  demo: { dir: "models/defect-demo", variant: "int8" },
  mobilenet: { dir: "models/bench-mobilenet", variant: "int8" },
};
/** Trigger rates tried in turn until parts fail safe (with 90% of the bare limit among them). */
const RATES = [10, 20, 40, 60, 80, 120, 160, 240, 320, 480];
/** The replay camera's schema allows 1000 frames/s, and it runs at twice the trigger rate. */
const MAX_RATE_HZ = 500;
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
 * The demo line as `npm start` runs it (SQLite records, simulated GPIO,
 * snapshots of rejects), except: the replay camera (a 640x480 recording of
 * the synthetic line decoded once into memory, so the camera is not what
 * bounds the rate), triggered by a simulated photo-eye at `rateHz`, the
 * camera at twice that frame rate with half a trigger period (one frame
 * period) of tolerance — at the same rate, a camera whose phase happened to
 * fall half a period from the trigger's would miss frames on any jitter — the
 * model on onnxruntime with one intra-op thread whatever demo.yaml says, and
 * every part a reject so every part makes a pulse to time.
 */
function lineConfig(model: BenchModel, video: string, rateHz: number, progressMs: number): Record<string, unknown> {
  const demo = parse(readFileSync(`${ROOT}config/demo.yaml`, "utf8")) as Record<string, Record<string, unknown>>;
  const period = 1000 / rateHz;
  return {
    ...demo,
    // EDGE_INSPECT_BENCH_REALTIME=N: the reject core under SCHED_FIFO at priority N (0: a normal thread), as the unit allows.
    actuation: { ...demo.actuation, realtime_priority: realtimePriority() },
    line: { ...demo.line, mode: "triggered", frame_tolerance_ms: Math.max(1, Math.ceil(period / 2)) },
    camera: { type: "replay", path: video, fps: 2 * rateHz },
    trigger: { type: "simulated", rate_hz: rateHz },
    engine: { type: "onnx", package: `${ROOT}${model.dir}`, variant: model.variant, threads: { intra_op: 1, inter_op: 1 }, providers: ["cpu"] },
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
  /** The summary's preprocess and infer p50: the engine thread's work per part besides its hand-offs. */
  preprocess_p50_ms: number;
  infer_p50_ms: number;
  /** The machine's 1-minute load average at the step's end: the bench shares the machine. */
  load_1min: number;
  /** Each thread's share of one core over the steady windows (the kernel's account, bench/daemon-run.ts). */
  threads: ThreadShare[];
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
    preprocess_p50_ms: s.latency_ms.preprocess.p50,
    infer_p50_ms: s.latency_ms.infer.p50,
    load_1min: loadavg()[0]!,
    threads: Object.entries(threadCpuBetween(r, warm.tS, last.tS))
      .map(([thread, ms]) => ({ thread, cpu_pct: Math.round((ms / ((last.tS - warm.tS) * 1000)) * 1000) / 10 }))
      .sort((a, b) => b.cpu_pct - a.cpu_pct),
  };
}

async function runStep(model: BenchModel, video: string, rateHz: number, seconds: number): Promise<Step> {
  const st = step(rateHz, await runDaemon(lineConfig(model, video, rateHz, 1000), seconds, { sampleThreads: true }));
  const busiest = st.threads.slice(0, 3).map((t) => `${t.thread} ${t.cpu_pct}%`).join(", ");
  process.stderr.write(`pipeline: ${model.dir} ${rateHz} Hz: ${st.parts} parts, ${st.failsafe} fail-safe (+${st.failsafe_warmup} warming up, +${st.failsafe_stop} at the stop), p99 ${st.e2e_p99_ms} ms; ${busiest}; load ${st.load_1min.toFixed(1)}\n`);
  return st;
}

/**
 * Steps the rate up until parts fail safe, then halves the gap to the last
 * good rate twice. 90% of the bare limit is one of the rates tried, so the
 * goal is measured itself; none is above the bare limit or the camera's.
 */
async function search(model: BenchModel, video: string, bare: BareResult, seconds: number): Promise<{ steps: Step[]; maxHz: number }> {
  const goalHz = Math.floor(bare.parts_per_s * GOALS.throughput_ratio);
  const rates = [...new Set([...RATES, goalHz])].filter((r) => r <= Math.min(MAX_RATE_HZ, bare.parts_per_s)).sort((a, b) => a - b);
  const steps: Step[] = [];
  let ok = 0;
  let bad = 0;
  for (const r of rates) {
    const s = await runStep(model, video, r, seconds);
    steps.push(s);
    if (s.failsafe > 0) {
      bad = r;
      break;
    }
    ok = r;
  }
  for (let i = 0; i < 2 && bad > 0 && ok > 0 && bad - ok > ok * 0.1; i++) {
    const mid = Math.round((ok + bad) / 2);
    const s = await runStep(model, video, mid, seconds);
    steps.push(s);
    if (s.failsafe > 0) bad = mid;
    else ok = mid;
  }
  steps.sort((a, b) => a.rate_hz - b.rate_hz);
  return { steps, maxHz: ok };
}

/**
 * Pipeline at its best zero-fail-safe rate against the bare model, and what
 * bounds it: the engine thread's CPU per part at that rate (the model's run
 * plus what the engine does around it: preprocessing, hand-offs, collection)
 * and the rate at which it would be a whole core, and at the first rate that
 * failed safe, the busiest thread and the process's CPU against the cores.
 */
function limits(steps: Step[], maxHz: number, bare: BareResult, replayMb: number) {
  const best = steps.find((s) => s.rate_hz === maxHz);
  if (!best) return undefined;
  const failed = steps.find((s) => s.rate_hz > maxHz);
  const ratio = best.rate_hz / bare.parts_per_s;
  const overP99 = best.e2e_p99_ms - bare.p99_ms;
  const engine = best.threads.find((t) => t.thread === "engine");
  const engineMs = engine ? (engine.cpu_pct * 10) / best.rate_hz : undefined;
  return {
    max_sustainable_hz: best.rate_hz,
    bare_parts_per_s: bare.parts_per_s,
    throughput_ratio: ratio,
    e2e_p99_ms: best.e2e_p99_ms,
    bare_p99_ms: bare.p99_ms,
    p99_over_bare_ms: overP99,
    engine_ms_per_part: engineMs ?? null,
    bare_ms_per_part: 1000 / bare.parts_per_s,
    engine_limit_hz: engineMs ? 1000 / engineMs : null,
    threads_at_max: best.threads,
    failed_at: failed ? { rate_hz: failed.rate_hz, why: failed.why, cpu_pct: failed.cpu_pct, cores_pct: cpus().length * 100, threads: failed.threads } : null,
    checks: {
      throughput: ratio >= GOALS.throughput_ratio,
      latency: overP99 <= GOALS.p99_over_bare_ms,
      pulse: best.pulse_err_p99_ms <= GOALS.pulse_error_p99_ms,
      loop_lag: best.loop_lag_p99_ms <= GOALS.loop_lag_p99_ms,
      // The replay camera holds its decoded recording; a camera's frames are not resident.
      rss: best.peak_rss_mb - replayMb < GOALS.peak_rss_mb,
    },
  };
}

/** The line at 80% of its maximum for `seconds`: RSS and latency per window, first to last. */
async function soak(model: BenchModel, video: string, maxHz: number, seconds: number) {
  const rateHz = Math.max(1, Math.round(maxHz * 0.8));
  // Ten-minute windows for an hour's soak; six windows for a shorter look.
  const windowS = Math.min(600, Math.max(5, Math.round(seconds / 6)));
  const r = await runDaemon(lineConfig(model, video, rateHz, windowS * 1000), seconds);
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

/** What the replay camera keeps in memory: every frame of the recording, decoded. */
function recordingMb(video: string): number {
  const cap = new cv.VideoCapture(video);
  try {
    return Math.round((cap.get(cv.CAP_PROP_FRAME_COUNT) * cap.get(cv.CAP_PROP_FRAME_WIDTH) * cap.get(cv.CAP_PROP_FRAME_HEIGHT) * 3) / 1048576);
  } finally {
    cap.release();
  }
}

function chosenModels(): Array<[string, BenchModel]> {
  const given = process.env.EDGE_INSPECT_BENCH_MODELS;
  const names = given ? given.split(",").map((n) => n.trim()).filter(Boolean) : Object.keys(MODELS);
  const unknown = names.filter((n) => !(n in MODELS));
  if (unknown.length > 0 || names.length === 0) throw new EdgeError("E_BENCH_ARGS", `EDGE_INSPECT_BENCH_MODELS: unknown model '${unknown.join(", ")}' (known: ${Object.keys(MODELS).join(", ")})`);
  return names.map((n) => [n, MODELS[n]!]);
}

/** A step as a table row: the busiest threads in one cell. */
function stepRow(model: string, s: Step): Record<string, string | number> {
  const { threads, ...rest } = s;
  return { model, ...rest, busiest: threads.slice(0, 3).map((t) => `${t.thread} ${t.cpu_pct}%`).join(", ") };
}

export const pipelineBenchmark: Benchmark = {
  name: "pipeline",
  description: "the line end to end (replay camera, triggered; the int8 demo model and MobileNetV2 224) stepped up to its fail-safe rate, beside bare onnxruntime on the same model; --duration S: soak at 80%",
  async run(opts: BenchOptions): Promise<BenchResult> {
    const seconds = Math.max(5, Math.round(10 * opts.scale));
    const bareRuns = Math.max(200, Math.round(2000 * opts.scale));
    const models = chosenModels();
    const dir = mkdtempSync(join(tmpdir(), "ei-pipeline-"));
    try {
      // 60 parts of the synthetic line, 640x480: ~53 MB once decoded, held by the daemon for the run.
      writeSyntheticDataset({ out: dir, parts: 60, seed: 7, defectRate: 0.2, width: 640, height: 480, fps: 20, video: "line.avi", images: false });
      const video = join(dir, "line.avi");
      const replayMb = recordingMb(video);
      const data: Record<string, unknown> = {
        camera: { type: "replay", width: 640, height: 480, recording: "60 parts of the synthetic line", decoded_mb: replayMb },
        intra_op_threads: 1,
        realtime_priority: realtimePriority(),
        step_seconds: seconds,
        warmup_windows: WARMUP_WINDOWS,
        goals: GOALS,
        cores: cpus().length,
        models: {},
      };
      const rows: Array<Record<string, string | number>> = [];
      const summary: Array<Record<string, string | number>> = [];
      const soakRows: Array<Record<string, string | number>> = [];
      for (const [name, model] of models) {
        // The bare limit before and after the line's steps: the machine may be busier for one of them.
        const bareBefore = await bareOnnx(`${ROOT}${model.dir}`, model.variant, bareRuns);
        // A soak may start from a maximum measured before (the search takes minutes).
        const given = Number(process.env.EDGE_INSPECT_BENCH_MAX_HZ);
        const { steps, maxHz } = opts.duration !== undefined && given > 0 ? { steps: [], maxHz: given } : await search(model, video, bareBefore, seconds);
        const bareAfter = await bareOnnx(`${ROOT}${model.dir}`, model.variant, bareRuns);
        const bare = [bareBefore, bareAfter].sort((a, b) => b.parts_per_s - a.parts_per_s)[0]!;
        const lim = limits(steps, maxHz, bare, replayMb);
        printTable(`${name}: bare onnxruntime (before, after the steps)`, [bareBefore, bareAfter].map((b) => ({ runs: b.runs, models: b.models.join(" + "), parts_per_s: b.parts_per_s, p50_ms: b.p50_ms, p99_ms: b.p99_ms })));
        if (lim) {
          summary.push({
            model: `${model.dir} (${model.variant})`,
            bare_parts_per_s: lim.bare_parts_per_s,
            max_sustainable_hz: lim.max_sustainable_hz,
            throughput_ratio: lim.throughput_ratio,
            p99_over_bare_ms: lim.p99_over_bare_ms,
            engine_ms_per_part: lim.engine_ms_per_part ?? "?",
            bare_ms_per_part: lim.bare_ms_per_part,
            engine_limit_hz: lim.engine_limit_hz ?? "?",
            failed_at: lim.failed_at ? `${lim.failed_at.rate_hz} Hz (${lim.failed_at.why}), process ${lim.failed_at.cpu_pct}% of ${lim.failed_at.cores_pct}, ${lim.failed_at.threads.slice(0, 2).map((t) => `${t.thread} ${t.cpu_pct}%`).join(", ")}` : "-",
            checks: Object.entries(lim.checks).map(([k, v]) => `${k} ${v ? "ok" : "MISSED"}`).join(", "),
          });
        }
        (data.models as Record<string, unknown>)[name] = { dir: model.dir, variant: model.variant, bare: { before: bareBefore, after: bareAfter }, steps, limits: lim ?? null };
        rows.push(...steps.map((s) => stepRow(name, s)));
        if (opts.duration === undefined) continue;
        if (maxHz === 0) throw new EdgeError("E_BENCH_NO_RATE", `${name}: no rate ran without fail-safes (lowest ${RATES[0]} Hz): nothing to soak at`);
        const s = await soak(model, video, maxHz, opts.duration);
        if (steps.length > 0) printTable(`${name}: steps (${seconds} s each)`, steps.map((st) => stepRow(name, st)));
        (data.models as Record<string, Record<string, unknown>>)[name]!.soak = s;
        process.stderr.write(`pipeline: ${name}: soak ${s.seconds} s at ${s.rate_hz} Hz, RSS drift ${s.drift?.rss_mb ?? "?"} MB, p99 drift ${s.drift?.e2e_p99_ms ?? "?"} ms\n`);
        soakRows.push(...s.windows.map((w) => ({ model: name, ...w })));
      }
      printTable("pipeline at its maximum zero-fail-safe rate vs bare onnxruntime (faster of its two runs)", summary);
      return { rows: opts.duration === undefined ? rows : soakRows, data };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
