import { test } from "node:test";
import assert from "node:assert/strict";
import { createBackend as onnxBackend, type OnnxBackendOptions } from "../../daemon/inference/onnx-backend.js";
import { createBackend as tfjsBackend, type TfjsBackendOptions } from "../../daemon/inference/tfjs-backend.js";
import type { Backend } from "../../daemon/inference/backend.js";
import { CLASSIFIER, classifyFixtures } from "./fixtures.js";

const ONNX: Omit<OnnxBackendOptions, "variant"> = { dir: CLASSIFIER, intraOpThreads: 1, interOpThreads: 1, spinning: false, graphOptimization: "all", providers: ["cpu"] };
const fixtures = classifyFixtures();

async function scoresOf(backend: Backend): Promise<number[][]> {
  const out: number[][] = [];
  for (const f of fixtures) {
    const r = await backend.infer(f.frame);
    assert.equal(r.output.kind, "classify");
    if (r.output.kind === "classify") out.push(r.output.scores);
  }
  await backend.close?.();
  return out;
}

const top1 = (s: number[]) => s.indexOf(Math.max(...s));

test("onnx float32 classifies the fixture set correctly and says what it ran on", async () => {
  const b = await onnxBackend({ ...ONNX, variant: "float32" });
  assert.equal(b.info.backend, "onnxruntime/cpu");
  assert.equal(b.info.package?.precision, "float32");
  assert.deepEqual(b.info.labels, ["ok", "scratch", "stain", "hole"]);
  const scores = await scoresOf(b);
  const right = scores.filter((s, i) => b.info.labels[top1(s)] === fixtures[i]!.label).length;
  assert.ok(right >= fixtures.length - 1, `${right}/${fixtures.length} right`);
  // top_k 3 of 4 labels: the weakest class is zeroed, the others are softmax probabilities.
  for (const s of scores) {
    assert.equal(s.filter((v) => v === 0).length, 1);
    assert.ok(s.reduce((a, v) => a + v, 0) <= 1 + 1e-6);
  }
});

for (const variant of ["int8", "int8-qop"]) {
  test(`onnx ${variant} agrees with float32 on top-1 over the fixture set`, async () => {
    const float = await scoresOf(await onnxBackend({ ...ONNX, variant: "float32" }));
    const b = await onnxBackend({ ...ONNX, variant });
    assert.equal(b.info.package?.precision, "int8");
    const q = await scoresOf(b);
    q.forEach((s, i) => assert.equal(top1(s), top1(float[i]!), `${fixtures[i]!.name}: int8 ${s} vs float ${float[i]}`));
  });
}

for (const variant of ["tfjs", "tfjs-graph", "tfjs-uint8", "tfjs-f16"]) {
  test(`TF.js ${variant} of the same weights agrees with onnx within tolerance`, async () => {
    const float = await scoresOf(await onnxBackend({ ...ONNX, variant: "float32" }));
    const options: TfjsBackendOptions = { dir: CLASSIFIER, variant, backends: ["wasm", "cpu"] };
    const b = await tfjsBackend(options);
    assert.match(b.info.backend, /^tfjs\/(wasm|cpu)$/);
    const t = await scoresOf(b);
    // Quantized weights move the scores a little; the class must not move.
    const tol = variant === "tfjs-uint8" ? 0.05 : variant === "tfjs-f16" ? 0.01 : 1e-3;
    t.forEach((s, i) => {
      assert.equal(top1(s), top1(float[i]!), fixtures[i]!.name);
      s.forEach((v, c) => assert.ok(Math.abs(v - float[i]![c]!) <= tol, `${fixtures[i]!.name} class ${c}: ${v} vs ${float[i]![c]}`));
    });
  });
}
