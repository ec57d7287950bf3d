import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { writeSyntheticDataset } from "../daemon/capture/synthetic-dataset.js";
import type { Benchmark } from "./harness.js";
import { runDaemon } from "./daemon-run.js";

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

/** One thread's CPU over the window: busy ms and the functions it went to (self time). */
interface ThreadCpu {
  thread: string;
  busyMs: number;
  gcMs: number;
  top: Array<{ fn: string; ms: number }>;
}

/**
 * Where the daemon's CPU goes per part: the demo line from the replay camera
 * (frames decoded once, so the camera costs next to nothing) at 20 and 60
 * parts/s, passes only and every part a reject with its JPEG snapshot, run
 * with V8's CPU profiler in every thread (`--cpu-prof`). Per case: CPU ms
 * per part by thread over a window that leaves out start-up and the stop,
 * and the functions that took the most. The reject core is a native thread
 * V8 does not see; the engine's share includes the model's own run.
 */
export const profileBenchmark: Benchmark = {
  name: "profile",
  description: "CPU per part by thread and by function (V8 --cpu-prof in every thread), replay camera, demo model, 20 and 60 parts/s",
  async run(opts) {
    const seconds = opts.duration ?? Math.max(WARM_S + STOP_S + 10, Math.round(40 * opts.scale));
    const dir = mkdtempSync(join(tmpdir(), "ei-profile-"));
    try {
      const videos = { pass: join(dir, "pass"), reject: join(dir, "reject") };
      writeSyntheticDataset({ out: videos.pass, parts: 200, seed: 31, defectRate: 0, width: 640, height: 480, fps: 20, video: "line.avi", images: false });
      writeSyntheticDataset({ out: videos.reject, parts: 200, seed: 32, defectRate: 1, width: 640, height: 480, fps: 20, video: "line.avi", images: false });
      const rows: Array<Record<string, string | number>> = [];
      const data: unknown[] = [];
      for (const rate of [20, 60]) {
        for (const kind of ["pass", "reject"] as const) {
          const profiles = join(dir, `prof-${kind}-${rate}`);
          const run = await runDaemon(lineConfig(join(videos[kind], "line.avi"), rate), seconds, { cpuProfileDir: profiles });
          const threads = readdirSync(profiles).map((f) => threadCpu(f, JSON.parse(readFileSync(join(profiles, f), "utf8")) as CpuProfile, seconds));
          const s = run.summary;
          // Parts in the window: the run's rate over its length.
          const parts = (s.triggered / s.duration_s) * (seconds - WARM_S - STOP_S);
          const per = (ms: number) => Math.round((ms / parts) * 1000) / 1000;
          const byThread = Object.fromEntries(threads.map((t) => [t.thread, per(t.busyMs)]));
          rows.push({
            case: `${kind === "pass" ? "passes" : "rejects + snapshot"} at ${rate}/s`,
            parts_per_s: s.parts_per_s,
            failsafe: s.failsafe,
            main_ms: byThread.main ?? 0,
            capture_ms: byThread.capture ?? 0,
            engine_ms: byThread.engine ?? 0,
            writer_ms: byThread.writer ?? 0,
            all_v8_ms: per(threads.reduce((n, t) => n + t.busyMs, 0)),
            main_gc_ms: per(threads.find((t) => t.thread === "main")?.gcMs ?? 0),
            infer_p50_ms: s.latency_ms.infer.p50,
            cpu_pct: s.cpu_percent,
          });
          data.push({ kind, rate, parts_in_window: Math.round(parts), summary: s, threads: threads.map((t) => ({ ...t, top: t.top.map((f) => ({ fn: f.fn, ms_per_part: per(f.ms) })) })) });
        }
      }
      return { rows, data: { seconds, warm_s: WARM_S, stop_s: STOP_S, cases: data } };
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

function threadCpu(file: string, p: CpuProfile, seconds: number): ThreadCpu {
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

