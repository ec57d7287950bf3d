import { existsSync } from "node:fs";
import { monitorEventLoopDelay } from "node:perf_hooks";
import pino from "pino";
import { fileURLToPath } from "node:url";
import type { Benchmark, BenchOptions, BenchResult } from "./harness.js";
import { median, percentile } from "./harness.js";
import { WorkerEngine } from "../daemon/inference/worker-engine.js";
import { loadModelPackage } from "../daemon/inference/model-package.js";
import { packageEngineOptions } from "../daemon/inference/package-engine.js";
import type { Frame } from "../daemon/capture/camera.js";
import { seededRandom } from "../daemon/util/random.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
/** A MobileNet-class 224x224 package when one was made (models/tools/make_bench_model.py), else the test classifier. */
const DEFAULT_PACKAGES = [`${ROOT}models/bench-mobilenet`, `${ROOT}test/fixtures/models/tiny-classifier`];
/** What this machine measured for a MobileNet-class 224x224 model (issue 4), ms per image. */
const REFERENCE_MS: Record<string, number> = { "onnx/int8": 5, "onnx/float32": 18, "tfjs/wasm": 60 };

const log = pino({ level: "silent" });

function cameraFrame(seq: number): Frame {
  const rnd = seededRandom(seq + 1);
  const data = Buffer.alloc(640 * 480 * 3);
  for (let i = 0; i < data.length; i++) data[i] = 100 + Math.floor(rnd() * 60);
  return { seq, tCaptureMs: 0, width: 640, height: 480, data };
}

interface Row extends Record<string, string | number> {
  variant: string;
  engine: string;
  backend: string;
  precision: string;
  p50_ms: number;
  p99_ms: number;
  parts_per_s: number;
  loop_lag_p99_ms: number;
}

/** One variant in its engine worker, one part at a time, as the line feeds it; the main thread's lag measured meanwhile. */
async function measure(dir: string, variant: string, engine: "onnx" | "tfjs", n: number): Promise<Row> {
  const rt = { queue: 4, hangTimeoutMs: 60_000, loadTimeoutMs: 120_000 };
  const cfg =
    engine === "onnx"
      ? { type: "onnx" as const, package: dir, variant, threads: { intra_op: 0, inter_op: 1 }, spinning: false, graph_optimization: "all" as const, providers: ["tensorrt" as const, "cuda" as const, "cpu" as const] }
      : { type: "tfjs" as const, package: dir, variant, backends: ["tensorflow" as const, "wasm" as const, "cpu" as const] };
  const e = new WorkerEngine(packageEngineOptions(cfg, rt), log);
  const info = await e.load();
  const frames = Array.from({ length: 8 }, (_, i) => cameraFrame(i));
  for (let i = 0; i < 5; i++) await e.infer(frames[i % frames.length]!);
  const lag = monitorEventLoopDelay({ resolution: 1 });
  const lat: number[] = [];
  lag.enable();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await e.infer(frames[i % frames.length]!);
    lat.push(performance.now() - t);
  }
  const total = (performance.now() - t0) / 1000;
  lag.disable();
  await e.close();
  return {
    variant,
    engine,
    backend: info.backend,
    precision: info.package?.precision ?? "?",
    p50_ms: median(lat),
    p99_ms: percentile(lat, 99),
    parts_per_s: n / total,
    loop_lag_p99_ms: lag.percentile(99) / 1e6,
  };
}

export const inferenceBenchmark: Benchmark = {
  name: "inference",
  description: "model package latency p50/p99, parts/s and main-thread event-loop lag per engine, backend and precision",
  async run(opts: BenchOptions): Promise<BenchResult> {
    const dir = process.env.EDGE_INSPECT_BENCH_MODEL ?? DEFAULT_PACKAGES.find((d) => existsSync(`${d}/model.yaml`))!;
    const pkg = loadModelPackage(dir);
    const m = pkg.manifest;
    const n = Math.max(20, Math.round(200 * opts.scale));
    const rows: Row[] = [];
    for (const [name, v] of Object.entries(m.variants)) rows.push(await measure(dir, name, v.engine ?? m.engine, n));
    const base = rows.find((r) => r.engine === "onnx" && r.precision === "float32") ?? rows[0]!;
    const withRatio = rows.map((r) => ({ ...r, vs_onnx_float32: base.p50_ms / r.p50_ms }));
    const reference = Object.entries(REFERENCE_MS).map(([key, ms]) => {
      const [engine, kind] = key.split("/");
      const r = rows.find((x) => x.engine === engine && (x.precision === kind || x.backend === `tfjs/${kind}`));
      return { key, reference_ms: ms, measured_p50_ms: r?.p50_ms ?? null, measured_over_reference: r ? r.p50_ms / ms : null };
    });
    return {
      rows: withRatio,
      data: { model: { dir, name: m.name, version: m.version, input: pkg.input.shape, frame: [640, 480] }, iterations: n, rows: withRatio, reference },
    };
  },
};
