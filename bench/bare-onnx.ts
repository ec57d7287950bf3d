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
  /** The model files run for each part, in turn: the head's model, then the anomaly model when the variant has one. */
  models: string[];
}

/**
 * The hardware's limit for one model: onnxruntime's session.run() on an
 * already preprocessed tensor of the model's input size, one part after the
 * other on one intra-op thread, as the daemon's engine worker runs it with
 * `threads.intra_op: 1` — no camera, no preprocessing, no threads between.
 * A part is every model the variant runs on it (the demo package's int8
 * variant: its classifier and its anomaly model, on the same input).
 */
export async function bareOnnx(dir: string, variant: string, runs: number): Promise<BareResult> {
  const pkg = loadModelPackage(dir, { engine: "onnx", variant });
  const models = [pkg.model, pkg.anomalyModel].filter((m): m is string => m !== undefined);
  const sessions: ort.InferenceSession[] = [];
  try {
    for (const m of models) {
      sessions.push(
        await ort.InferenceSession.create(pkg.files.get(m)!, {
          executionProviders: ["cpu"],
          intraOpNumThreads: 1,
          interOpNumThreads: 1,
          graphOptimizationLevel: "all",
          executionMode: "sequential",
          extra: { session: { intra_op: { allow_spinning: "0" }, inter_op: { allow_spinning: "0" } } },
        }),
      );
    }
    const dims = pkg.input.shape.map((d) => (typeof d === "number" ? d : 1));
    const rnd = seededRandom(1);
    const data = Float32Array.from({ length: dims.reduce((a, b) => a * b, 1) }, () => rnd());
    const feeds = sessions.map((s) => ({ [s.inputNames[0]!]: new ort.Tensor("float32", data, dims) }));
    const part = async () => {
      for (let i = 0; i < sessions.length; i++) await sessions[i]!.run(feeds[i]!);
    };
    for (let i = 0; i < 20; i++) await part();
    const lat: number[] = [];
    const t0 = performance.now();
    for (let i = 0; i < runs; i++) {
      const t = performance.now();
      await part();
      lat.push(performance.now() - t);
    }
    const seconds = (performance.now() - t0) / 1000;
    return { runs, parts_per_s: runs / seconds, p50_ms: median(lat), p99_ms: percentile(lat, 99), input: dims, models };
  } finally {
    for (const s of sessions) await s.release();
  }
}
