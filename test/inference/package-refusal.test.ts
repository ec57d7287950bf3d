import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadModelPackage } from "../../daemon/inference/model-package.js";
import { createBackend } from "../../daemon/inference/onnx-backend.js";
import { WorkerEngine } from "../../daemon/inference/worker-engine.js";
import { quietLog } from "../fakes/quiet-log.js";
import { editedPackage, type Manifest } from "./fixtures.js";

const ONNX = { intraOpThreads: 1, interOpThreads: 1, spinning: false, graphOptimization: "all" as const, providers: ["cpu" as const] };

async function refused(dir: string, code: string, message: RegExp) {
  try {
    await assert.rejects(createBackend({ dir, variant: "float32", ...ONNX }), (err: Error & { code?: string }) => {
      assert.equal(err.code, code, err.message);
      assert.match(err.message, message);
      return true;
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test("a truncated weight file is refused: E_MODEL_TRUNCATED", async () => {
  await refused(editedPackage((d) => truncateSync(join(d, "model.onnx"), 1000), false), "E_MODEL_TRUNCATED", /model\.onnx: truncated: 1000 of \d+ bytes/);
});

test("a changed byte is refused: E_MODEL_HASH", async () => {
  const dir = editedPackage((d) => {
    const b = readFileSync(join(d, "model.int8.onnx"));
    const i = b.length >> 1;
    b[i] = b[i]! ^ 0xff;
    writeFileSync(join(d, "model.int8.onnx"), b);
  }, false);
  // Every listed file is checked, not only the variant's.
  await refused(dir, "E_MODEL_HASH", /model\.int8\.onnx: sha256 [0-9a-f]{64} does not match/);
});

test("a corrupt model whose hash was recomputed is refused by the runtime: E_MODEL_CORRUPT", async () => {
  await refused(editedPackage((d) => writeFileSync(join(d, "model.onnx"), Buffer.from("not a protobuf at all, just text"))), "E_MODEL_CORRUPT", /onnxruntime cannot load it/);
});

test("a manifest shape that is not the model's is refused: E_MODEL_SHAPE", async () => {
  await refused(editedPackage((_, m) => ((m.input as { shape: number[] }).shape = [1, 3, 32, 32])), "E_MODEL_SHAPE", /the model's input is \["batch",3,64,64\], the manifest says \[1,3,32,32\]/);
});

test("labels that do not fit the model's outputs are refused: E_MODEL_LABELS", async () => {
  await refused(editedPackage((_, m) => (m.labels = ["ok", "scratch", "stain", "hole", "crack"])), "E_MODEL_LABELS", /4 outputs per image, the manifest 5 labels/);
});

test("a golden image the model gets wrong is refused: E_MODEL_GOLDEN", async () => {
  await refused(editedPackage((_, m) => ((m.golden as Array<{ expect: string }>)[0]!.expect = "stain")), "E_MODEL_GOLDEN", /golden image golden\/ok-00\.png: expected stain, the model says ok/);
});

test("manifest problems are listed as 'path: problem' with their line", () => {
  const dir = editedPackage((_, m) => {
    (m.head as Record<string, unknown>).activation = "softplus";
    m.ok_lable = "ok";
  });
  try {
    assert.throws(() => loadModelPackage(dir), (err: Error & { code?: string }) => {
      assert.equal(err.code, "E_MODEL_MANIFEST");
      assert.match(err.message, /head\.activation: Invalid enum value.*\(line \d+\)/);
      assert.match(err.message, /Unrecognized key\(s\) in object: 'ok_lable'/);
      return true;
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("labels, thresholds and variants are cross-checked at load", () => {
  const cases: Array<[(d: string, m: Manifest) => void, string, RegExp, object?]> = [
    [(_, m) => (m.ok_label = "good"), "E_MODEL_LABELS", /ok_label: 'good' is not one of the labels/],
    [(_, m) => (m.thresholds = { default: 0.5, dent: 0.3 }), "E_MODEL_LABELS", /thresholds\.dent: not one of the labels/],
    [(d) => rmSync(join(d, "model.onnx")), "E_MODEL_FILE", /model\.onnx: cannot read/],
    [() => undefined, "E_MODEL_VARIANT", /no variant 'fp16'/, { variant: "fp16" }],
    [() => undefined, "E_MODEL_VARIANT", /variant 'tfjs' is for engine tfjs, not onnx/, { variant: "tfjs", engine: "onnx" }],
  ];
  for (const [edit, code, message, sel] of cases) {
    const dir = editedPackage(edit, code !== "E_MODEL_FILE");
    try {
      assert.throws(() => loadModelPackage(dir, sel), (err: Error & { code?: string }) => {
        assert.equal(err.code, code, err.message);
        assert.match(err.message, message);
        return true;
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
});

test("the engine worker refuses a bad package with the package's error code", async () => {
  const dir = editedPackage((d) => truncateSync(join(d, "model.onnx"), 10), false);
  const engine = new WorkerEngine(
    { module: new URL("../../daemon/inference/onnx-backend.js", import.meta.url).href, options: { dir, ...ONNX }, queue: 2, hangTimeoutMs: 5000, loadTimeoutMs: 20_000 },
    quietLog(),
  );
  try {
    await assert.rejects(engine.load(), { code: "E_MODEL_TRUNCATED" });
  } finally {
    await engine.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
