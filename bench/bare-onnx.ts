import * as ort from "onnxruntime-node";
import { loadModelPackage } from "../daemon/inference/model-package.js";
import { seededRandom } from "../daemon/util/random.js";
import { median, percentile } from "./harness.js";

export interface BareResult {
  runs: number;
  parts_per_s: number;
  p50_ms: number;
  p99_ms: number;
  input: number[];
}

/**
 * The hardware's limit for one model: onnxruntime's session.run() on an
 * already preprocessed tensor of the model's input size, one run after the
 * other on one intra-op thread, as the daemon's engine worker runs it with
 * `threads.intra_op: 1` — no camera, no preprocessing, no threads between.
 */
export async function bareOnnx(dir: string, variant: string, runs: number): Promise<BareResult> {
  const pkg = loadModelPackage(dir, { engine: "onnx", variant });
  const session = await ort.InferenceSession.create(pkg.files.get((pkg.model ?? pkg.anomalyModel)!)!, {
    executionProviders: ["cpu"],
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    graphOptimizationLevel: "all",
    executionMode: "sequential",
    extra: { session: { intra_op: { allow_spinning: "0" }, inter_op: { allow_spinning: "0" } } },
  });
  try {
    const dims = pkg.input.shape.map((d) => (typeof d === "number" ? d : 1));
    const rnd = seededRandom(1);
    const data = Float32Array.from({ length: dims.reduce((a, b) => a * b, 1) }, () => rnd());
    const feeds = { [session.inputNames[0]!]: new ort.Tensor("float32", data, dims) };
    for (let i = 0; i < 20; i++) await session.run(feeds);
    const lat: number[] = [];
    const t0 = performance.now();
    for (let i = 0; i < runs; i++) {
      const t = performance.now();
      await session.run(feeds);
      lat.push(performance.now() - t);
    }
    const seconds = (performance.now() - t0) / 1000;
    return { runs, parts_per_s: runs / seconds, p50_ms: median(lat), p99_ms: percentile(lat, 99), input: dims };
  } finally {
    await session.release();
  }
}
