import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import * as ort from "onnxruntime-node";
import { createBackend as onnxBackend } from "../../daemon/inference/onnx-backend.js";
import { createBackend as tfjsBackend } from "../../daemon/inference/tfjs-backend.js";
import type { Backend, BackendFrame } from "../../daemon/inference/backend.js";
import { loadModelPackage } from "../../daemon/inference/model-package.js";
import { decide } from "../../daemon/decide/decide.js";
import { renderPart } from "../../daemon/capture/synthetic-line.js";

/** The shipped demo model, as `npm start` loads it. */
const DEMO = fileURLToPath(new URL("../../../models/defect-demo", import.meta.url));
// A line the model never saw: training used seed 1.
const LINE = { width: 640, height: 480, seed: 90210, defectRate: 0.5 };
const PARTS = 200;
// What the shipped int8 model must reach on held-out parts (issue 7): escapes
// are the worst outcome; a false reject scraps a good part. The int8 file and
// its latency through onnxruntime (one thread, one image per run, median,
// measured side by side with float by the evaluate step) against float's.
const TARGET = { recall: 0.99, falseRejects: 0.01, accuracyDrop: 0.01, sizeRatio: 0.3, latencyRatio: 0.4 };

const parts = Array.from({ length: PARTS }, (_, i) => {
  const { image, truth } = renderPart(LINE, i);
  const frame: BackendFrame = { seq: i, width: image.cols, height: image.rows, data: image.getData() };
  return { frame, defect: truth.defect };
});

const onnx = (variant: string) =>
  onnxBackend({ dir: DEMO, variant, intraOpThreads: 1, interOpThreads: 1, spinning: false, graphOptimization: "all", providers: ["cpu"] });

async function judge(backend: Backend, judged = parts): Promise<{ top1: string[]; rejected: boolean[] }> {
  const pkg = backend.info.package!;
  const settings = { okLabel: pkg.okLabel, threshold: pkg.thresholds.default, thresholds: pkg.thresholds.perClass };
  const top1: string[] = [];
  const rejected: boolean[] = [];
  for (const p of judged) {
    const { output } = await backend.infer(p.frame);
    assert.equal(output.kind, "classify");
    if (output.kind !== "classify") continue;
    top1.push(backend.info.labels[output.scores.indexOf(Math.max(...output.scores))]!);
    rejected.push(decide(output, backend.info.labels, settings).verdict === "reject");
  }
  await backend.close?.();
  return { top1, rejected };
}

test("the demo package loads: every file matches its hash, int8 is the default and under 1 MB", () => {
  const int8 = loadModelPackage(DEMO, { engine: "onnx" });
  assert.equal(int8.variant, "int8");
  assert.equal(int8.precision, "int8");
  assert.deepEqual(int8.manifest.labels, ["ok", "scratch", "crack", "stain", "missing_hole"]);
  const float = loadModelPackage(DEMO, { engine: "onnx", variant: "float32" });
  const size = (p: typeof int8) => p.files.get(p.model!)!.length;
  assert.ok(size(int8) < 1_000_000, `${size(int8)} bytes`);
  assert.ok(size(int8) < size(float) / 2, `int8 ${size(int8)} bytes, float ${size(float)}`);
});

test("evaluation.json reports float and int8 with the figures the issue asks for", () => {
  const ev = JSON.parse(readFileSync(`${DEMO}/evaluation.json`, "utf8")) as Record<string, Record<string, number>>;
  for (const [variant, file] of [["float", "model.onnx"], ["int8", "model.int8.onnx"]] as const) {
    const r = ev[variant]!;
    for (const k of ["accuracy", "recall_defective", "false_reject_rate", "latency_ms", "size_bytes"]) assert.equal(typeof r[k], "number", `${variant}.${k}`);
    assert.equal(r.size_bytes, statSync(`${DEMO}/${file}`).size, `${variant} size_bytes is the shipped file's`);
  }
});

test("evaluation.json: int8 meets the targets on the held-out split and stays within a point of float", () => {
  type Row = { accuracy: number; recall_defective: number; false_reject_rate: number; latency_ms: number; size_bytes: number };
  const ev = JSON.parse(readFileSync(`${DEMO}/evaluation.json`, "utf8")) as Record<"float" | "int8", Row> & { checks: Record<string, boolean> };
  assert.ok(ev.int8.recall_defective >= TARGET.recall, `int8 defective recall ${ev.int8.recall_defective}`);
  assert.ok(ev.int8.false_reject_rate <= TARGET.falseRejects, `int8 false-reject rate ${ev.int8.false_reject_rate}`);
  assert.ok(ev.float.accuracy - ev.int8.accuracy <= TARGET.accuracyDrop, `int8 accuracy ${ev.int8.accuracy}, float ${ev.float.accuracy}`);
  assert.ok(ev.int8.size_bytes <= TARGET.sizeRatio * ev.float.size_bytes, `int8 ${ev.int8.size_bytes} bytes, float ${ev.float.size_bytes}`);
  assert.ok(ev.int8.latency_ms <= TARGET.latencyRatio * ev.float.latency_ms, `int8 ${ev.int8.latency_ms} ms, float ${ev.float.latency_ms} ms`);
  assert.deepEqual(Object.values(ev.checks), Array(5).fill(true), JSON.stringify(ev.checks));
});

/** How often each operator occurs in the graph onnxruntime runs after its optimisations (QDQ fusion included). */
async function optimizedOps(model: Uint8Array): Promise<(op: string) => number> {
  const dir = mkdtempSync(join(tmpdir(), "optimized-"));
  try {
    const file = join(dir, "model.onnx");
    const s = await ort.InferenceSession.create(model, { graphOptimizationLevel: "all", intraOpNumThreads: 1, optimizedModelFilePath: file, logSeverityLevel: 3 });
    await s.release();
    const bytes = readFileSync(file).toString("latin1");
    // A node's op_type is protobuf field 4: tag 0x22, length, name.
    return (op) => bytes.split(`\x22${String.fromCharCode(op.length)}${op}`).length - 1;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test("onnxruntime runs the int8 model on integer kernels only", async () => {
  const int8 = loadModelPackage(DEMO, { engine: "onnx" });
  const float = loadModelPackage(DEMO, { engine: "onnx", variant: "float32" });
  const q = await optimizedOps(int8.files.get(int8.model!)!);
  const f = await optimizedOps(float.files.get(float.model!)!);
  // Every convolution of the float model is a QLinearConv in int8, the classifier a QGemm; no float Conv or Gemm left.
  assert.ok(f("Conv") >= 5, `float: ${f("Conv")} Conv`);
  assert.equal(q("QLinearConv"), f("Conv"));
  assert.equal(q("QGemm"), 1);
  assert.equal(q("Conv"), 0, "a float Conv is left");
  assert.equal(q("Gemm"), 0, "a float Gemm is left");
});

test("int8 through the daemon's onnxruntime backend judges parts of an unseen line at the targets", async () => {
  const b = await onnx("int8");
  assert.equal(b.info.backend, "onnxruntime/cpu");
  const { rejected } = await judge(b);
  const defective = parts.map((p) => p.defect !== null);
  const recall = rejected.filter((r, i) => r && defective[i]).length / defective.filter(Boolean).length;
  const falseRejects = rejected.filter((r, i) => r && !defective[i]).length / defective.filter((d) => !d).length;
  // About 100 parts of each kind: one miss more than the target allows is sampling error.
  const good = defective.filter((d) => !d).length;
  const bad = defective.length - good;
  assert.ok(recall >= TARGET.recall - 1 / bad, `defective recall ${recall} on ${bad} defective parts`);
  assert.ok(falseRejects <= TARGET.falseRejects + 1 / good, `false-reject rate ${falseRejects} on ${good} good parts`);
});

test("float32 and the TF.js export of the same weights agree with int8 part by part", async () => {
  // TF.js's plain-JS backend is slow: a quarter of the parts shows it computes the same function.
  const some = parts.slice(0, PARTS / 4);
  const int8 = await judge(await onnx("int8"), some);
  const float = await judge(await onnx("float32"), some);
  const tfjs = await judge(await tfjsBackend({ dir: DEMO, variant: "tfjs", backends: ["cpu"] }), some);
  const agree = (a: string[], b: string[]) => a.filter((v, i) => v === b[i]).length / a.length;
  assert.deepEqual(tfjs.top1, float.top1, "TF.js computes the float model");
  assert.ok(agree(int8.top1, float.top1) >= 0.95, `int8 agrees with float on ${agree(int8.top1, float.top1)}`);
});
