import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * The model toolchain end to end on a tiny synthetic dataset for a few
 * epochs: every step runs (PyTorch training, ONNX and TF.js export with their
 * numeric checks, int8 quantization, evaluation through onnxruntime-node,
 * packaging), so none of them can rot unnoticed. The model is far too small to
 * be any good, which packaging must notice.
 */
const ROOT = fileURLToPath(new URL("../../..", import.meta.url));
const work = mkdtempSync(join(tmpdir(), "toolchain-"));
const out = join(work, "package");
const SMOKE = ["--synthetic", "60", "--epochs", "1", "--seed", "3", "--work", join(work, "build"), "--out", out, "--name", "smoke"];

function step(name: string) {
  const r = spawnSync("bash", ["models/train/pipeline.sh", name, ...SMOKE], { cwd: ROOT, encoding: "utf8", timeout: 170_000 });
  return { status: r.status, log: `${r.stdout}\n${r.stderr}` };
}

test("dataset, train, quantize and evaluate run on a tiny dataset and write what the next step reads", () => {
  for (const name of ["dataset", "train", "quantize", "evaluate"]) {
    const r = step(name);
    assert.equal(r.status, 0, `${name} failed:\n${r.log}`);
  }
  const build = join(work, "build");
  const dataset = JSON.parse(readFileSync(join(build, "dataset", "dataset.json"), "utf8")) as { splits: Record<string, { count: number }> };
  const { train, val, test: held } = dataset.splits;
  assert.equal(train!.count + val!.count + held!.count, 60);
  assert.ok(train!.count > 2 * val!.count && val!.count > 0 && held!.count > 0, JSON.stringify(dataset.splits));
  for (const f of ["model.onnx", "model.int8.onnx", "tfjs/model.json", "tfjs/weights.bin", "train.json", "onnxruntime.json"]) {
    assert.ok(existsSync(join(build, "model", f)), `model/${f} missing`);
  }
  const ev = JSON.parse(readFileSync(join(build, "model", "evaluation.json"), "utf8")) as Record<string, Record<string, unknown>>;
  for (const variant of ["float", "int8"]) {
    for (const k of ["accuracy", "recall_defective", "false_reject_rate", "latency_ms", "size_bytes"]) {
      assert.equal(typeof ev[variant]![k], "number", `${variant}.${k}`);
    }
  }
  // The int8 file is the quantized one, not a copy.
  assert.ok((ev.int8!.size_bytes as number) < (ev.float!.size_bytes as number) / 2);
});

test("package refuses a model that does not judge its own test images right, and leaves the package in service intact", () => {
  // One epoch on 36 images cannot be fit to ship: package's golden-image check must refuse it.
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, "in-service.txt"), "the package running now");
  const r = step("package");
  assert.equal(r.status, 1, r.log);
  assert.match(r.log, /package: no test image of class '\w+' is judged right by every variant: the model is not fit to ship/);
  assert.deepEqual(readdirSync(out), ["in-service.txt"]);
  assert.equal(readFileSync(join(out, "in-service.txt"), "utf8"), "the package running now");
  assert.deepEqual(readdirSync(work).sort(), ["build", "package"], "no half-written package left beside it");
});
