import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { writeSyntheticDataset } from "../daemon/capture/synthetic-dataset.js";
import type { Benchmark } from "./harness.js";
import { bareOnnx } from "./bare-onnx.js";
import { runDaemon, threadCpuBetween } from "./daemon-run.js";

const DEMO_MODEL = fileURLToPath(new URL("../../models/defect-demo", import.meta.url));
/** Start-up (modules, the model, the replay's decode) and the stop are left out of the window measured. */
const WARM_S = 10;
const STOP_S = 2;

interface CpuProfile {
  nodes: Array<{ id: number; callFrame: { functionName: string; url: string; lineNumber: number } }>;
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** One thread's profile over the window: its non-idle sampled ms and the functions they were in (self time). */
interface ThreadFunctions {
  thread: string;
  busyMs: number;
  gcMs: number;
  top: Array<{ fn: string; ms: number }>;
}

/**
 * Where the daemon's CPU goes per part: the demo line from the replay camera
 * (frames decoded once, so the camera costs next to nothing) at 20 and 60
 * parts/s, passes only and every part a reject with its JPEG snapshot. Each
 * case runs twice: once plain, its threads' CPU read from the kernel's
 * account (/proc/PID/task/TID/schedstat, once a second) — the figures —, and
 * once with V8's CPU profiler in every thread (`--cpu-prof`) for the functions
 * that took the most (a sampled wall time on each thread's stack: a thread
 * preempted in a function is counted in it). Both over a window that leaves
 * out start-up and the stop. The model's own run is bare onnxruntime's on the
 * same model and thread count, measured in the same run.
 */
export const profileBenchmark: Benchmark = {
  name: "profile",
  description: "CPU per part by thread (the kernel's account) and by function (V8 --cpu-prof in every thread), replay camera, demo model, 20 and 60 parts/s",
  async run(opts) {
    const seconds = opts.duration ?? Math.max(WARM_S + STOP_S + 10, Math.round(40 * opts.scale));
    const windowS = seconds - WARM_S - STOP_S;
    const dir = mkdtempSync(join(tmpdir(), "ei-profile-"));
    try {
      const videos = { pass: join(dir, "pass"), reject: join(dir, "reject") };
      writeSyntheticDataset({ out: videos.pass, parts: 200, seed: 31, defectRate: 0, width: 640, height: 480, fps: 20, video: "line.avi", images: false });
      writeSyntheticDataset({ out: videos.reject, parts: 200, seed: 32, defectRate: 1, width: 640, height: 480, fps: 20, video: "line.avi", images: false });
      const model = await bareOnnx(DEMO_MODEL, "int8", 2000);
      const baseline = process.env.EDGE_INSPECT_BENCH_BASELINE;
      /** One plain run: CPU ms per part by thread over the window, and its table row. */
      const cpuRun = async (config: Record<string, unknown>, root?: string) => {
        const run = await runDaemon(config, seconds, { sampleThreads: true, ...(root && { root }) });
        const s = run.summary;
        // Parts in the window: the run's rate over its length.
        const parts = (s.triggered / s.duration_s) * windowS;
        const per = (ms: number) => Math.round((ms / parts) * 1000) / 1000;
        const byThread = Object.fromEntries(Object.entries(threadCpuBetween(run, run.exitS - STOP_S - windowS, run.exitS - STOP_S)).map(([t, ms]) => [t, per(ms)]));
        const all = Object.values(byThread).reduce((a, b) => a + b, 0);
        const row = (name: string) => ({
          case: name,
          parts_per_s: s.parts_per_s,
          failsafe: s.failsafe,
          main_ms: byThread.main ?? 0,
          capture_ms: byThread.capture ?? 0,
          engine_ms: byThread.engine ?? 0,
          writer_ms: byThread.writer ?? 0,
          reject_core_ms: byThread["reject-core"] ?? 0,
          native_ms: byThread.native ?? 0,
          all_ms: Math.round(all * 1000) / 1000,
          model_ms: Math.round(model.p50_ms * 1000) / 1000,
          daemon_ms: Math.round((all - model.p50_ms) * 1000) / 1000,
          loop_lag_p99_ms: s.event_loop_lag_ms.p99,
          peak_rss_mb: s.peak_rss_mb,
        });
        return { summary: s, parts, per, byThread, row };
      };
      const rows: Array<Record<string, string | number>> = [];
      const data: unknown[] = [];
      for (const rate of [20, 60]) {
        for (const kind of ["pass", "reject"] as const) {
          const config = lineConfig(join(videos[kind], "line.avi"), rate);
          const name = `${kind === "pass" ? "passes" : "rejects + snapshot"} at ${rate}/s`;
          // The baseline's daemon and this one's one after the other: side by side in one run.
          if (baseline) rows.push((await cpuRun(config, baseline)).row(`${name} (baseline)`));
          const cpu = await cpuRun(config);
          rows.push(cpu.row(name));
          const profiles = join(dir, `prof-${kind}-${rate}`);
          await runDaemon(config, seconds, { cpuProfileDir: profiles });
          const functions = readdirSync(profiles).map((f) => functionsOf(f, JSON.parse(readFileSync(join(profiles, f), "utf8")) as CpuProfile, seconds));
          data.push({
            kind,
            rate,
            parts_in_window: Math.round(cpu.parts),
            cpu_ms_per_part: cpu.byThread,
            summary: cpu.summary,
            functions: functions.map((t) => ({ thread: t.thread, ms_per_part: cpu.per(t.busyMs), gc_ms_per_part: cpu.per(t.gcMs), top: t.top.map((f) => ({ fn: f.fn, ms_per_part: cpu.per(f.ms) })) })),
          });
        }
      }
      return { rows, data: { seconds, warm_s: WARM_S, stop_s: STOP_S, model: { variant: "int8", bare_p50_ms: model.p50_ms, bare_parts_per_s: model.parts_per_s }, cases: data } };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};

function lineConfig(video: string, rate: number): Record<string, unknown> {
  return {
    station: { site: "bench", line: "l1", device: "d1" },
    line: { mode: "free-run", travel_ms: 400, decision_margin_ms: 20 },
    camera: { type: "replay", path: video, fps: rate },
    engine: { type: "onnx", package: DEMO_MODEL, variant: "int8", threads: { intra_op: 1 }, providers: ["cpu"] },
    records: { type: "sqlite" },
    publish: { type: "mqtt", embedded_broker: { port: 0 }, metrics_interval_s: 2 },
    http: { enabled: false },
    snapshots: { rejected: true },
    lifecycle: { progress_report_ms: 60_000 },
  };
}

/** The thread a profile is of: the main thread (id 0), else the worker by the script it runs. */
function threadName(file: string, p: CpuProfile): string {
  const id = file.split(".")[4];
  if (id === "0") return "main";
  const urls = new Set(p.nodes.map((n) => n.callFrame.url));
  const runs = (script: string) => [...urls].some((u) => u.endsWith(script));
  if (runs("capture-worker.js")) return "capture";
  if (runs("engine-worker.js")) return "engine";
  if (runs("sqlite-writer.js")) return "writer";
  return `worker ${id}`;
}

function functionsOf(file: string, p: CpuProfile, seconds: number): ThreadFunctions {
  const nodes = new Map(p.nodes.map((n) => [n.id, n.callFrame]));
  // The window ends STOP_S before the profile does and spans the run but its warm-up.
  const to = p.endTime - STOP_S * 1e6;
  const from = to - (seconds - WARM_S - STOP_S) * 1e6;
  const self = new Map<string, number>();
  let t = p.startTime;
  p.samples.forEach((id, i) => {
    t += p.timeDeltas[i]!;
    if (t < from || t > to) return;
    const cf = nodes.get(id)!;
    const where = cf.url ? `${cf.url.replace(/^.*\/(dist|node_modules)\//, "")}:${cf.lineNumber + 1}` : "";
    const key = `${cf.functionName || "(anonymous)"}${where ? ` ${where}` : ""}`;
    self.set(key, (self.get(key) ?? 0) + (p.timeDeltas[i + 1] ?? 0) / 1000);
  });
  const idle = self.get("(idle)") ?? 0;
  const busyMs = [...self.values()].reduce((a, b) => a + b, 0) - idle;
  self.delete("(idle)");
  const top = [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, 8).map(([fn, ms]) => ({ fn, ms }));
  return { thread: threadName(file, p), busyMs, gcMs: self.get("(garbage collector)") ?? 0, top };
}

