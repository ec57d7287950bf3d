import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { launchChromium, SCREENSHOTS } from "../http/browser.js";
import { cv } from "../../daemon/vision/opencv.js";
import { renderPart } from "../../daemon/capture/synthetic-line.js";
import { loadModelPackage } from "../../daemon/inference/model-package.js";
import { createBackend } from "../../daemon/inference/onnx-backend.js";

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
// The anomaly head's good parts and the two evaluation seeds, as small.
const ANOMALY = ["--anomaly-epochs", "1", "--anomaly-parts", "60", "--eval-parts", "60"];

function step(name: string, more: string[] = []) {
  const r = spawnSync("bash", ["models/train/pipeline.sh", name, ...SMOKE, ...ANOMALY, ...more], { cwd: ROOT, encoding: "utf8", timeout: 170_000 });
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

test("the anomaly step trains on good parts only, exports float and int8 checked against the trained net, and evaluates both heads on unseen seeds", () => {
  const r = step("anomaly");
  assert.equal(r.status, 0, r.log);
  const build = join(work, "build");
  for (const f of ["anomaly.onnx", "anomaly.int8.onnx", "train.json", "anomaly.json", "onnxruntime-eval-seed103.json", "onnxruntime-eval-seed104.json"]) {
    assert.ok(existsSync(join(build, "anomaly", f)), `anomaly/${f} missing`);
  }
  assert.match(r.log, /max \|logit - trained network\| /, "the float export was checked against the trained net");
  const train = JSON.parse(readFileSync(join(build, "anomaly", "train.json"), "utf8")) as { good_images: { train: number } };
  const dataset = JSON.parse(readFileSync(join(build, "anomaly-dataset", "dataset.json"), "utf8")) as { labels: string[] };
  assert.deepEqual(dataset.labels, ["ok"], "the anomaly head's dataset holds good parts only");
  assert.ok(train.good_images.train > 20);
  type Rates = { false_reject_rate: number; recall_known?: number; recall_novel?: number; per_kind: Record<string, unknown> };
  const ev = JSON.parse(readFileSync(join(build, "anomaly", "anomaly.json"), "utf8")) as {
    threshold: number;
    sets: Record<string, Record<"float" | "int8", Record<"anomaly" | "classifier" | "both", Rates>>>;
    checks: Record<string, boolean>;
  };
  assert.ok(ev.threshold >= 0 && ev.threshold <= 1);
  assert.deepEqual(Object.keys(ev.sets).sort(), ["eval-seed103", "eval-seed104"]);
  for (const set of Object.values(ev.sets)) {
    for (const head of ["anomaly", "classifier", "both"] as const) {
      const x = set.int8[head];
      for (const k of ["false_reject_rate", "recall_known", "recall_novel"] as const) assert.equal(typeof x[k], "number", `${head}.${k}`);
      assert.ok(Object.keys(x.per_kind).some((k) => ["dent", "chipped_edge", "foreign_object", "discoloration", "wrong_part"].includes(k)), "novel kinds are evaluated");
    }
  }
  assert.ok(Object.keys(ev.checks).some((k) => /novel recall/.test(k)) && Object.keys(ev.checks).some((k) => /latency/.test(k)), JSON.stringify(ev.checks));
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

test("the report step writes report.html beside the package, and headless Chromium shows every section", async () => {
  const r = step("report");
  assert.equal(r.status, 0, r.log);
  const browser = await launchChromium();
  try {
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    await page.goto(pathToFileURL(join(out, "report.html")).href);
    const ids = ["summary", "curves", "confusion", "per-class", "histogram", "roc", "wrong"];
    for (const id of ids) {
      const section = page.locator(`section#${id}`);
      assert.equal(await section.count(), 1, `section ${id}`);
      assert.ok(await section.isVisible(), `section ${id} visible`);
      const box = await section.boundingBox();
      assert.ok(box && box.height > 40, `section ${id} has content: ${JSON.stringify(box)}`);
    }
    // The classifier's loss and learning-rate curves (the Gaussian anomaly head is fitted, not trained), the histogram, ROC and PR: each chart drew its lines or bars.
    assert.ok((await page.locator("#curves svg polyline").count()) >= 3);
    assert.match(await page.locator("#curves").innerText(), /fitted, not trained: no curves/);
    assert.ok((await page.locator("#histogram svg rect").count()) > 2);
    assert.equal(await page.locator("#roc svg").count(), 2);
    assert.ok((await page.locator("#confusion table").count()) >= 2);
    // The misjudged parts' PNGs load (a one-epoch model misjudges some).
    const images = page.locator("#wrong img");
    assert.ok((await images.count()) > 0);
    const loaded = await images.evaluateAll((els) => els.every((e) => (e as HTMLImageElement).complete && (e as HTMLImageElement).naturalWidth > 0));
    assert.ok(loaded, "every misjudged image loads");
    await page.screenshot({ path: join(SCREENSHOTS, "training-report.png"), fullPage: true });
  } finally {
    await browser.close();
  }
});

test("--from a folder of good parts only with --good-only builds an anomaly package the daemon loads and runs", async () => {
  const parts = join(work, "good-parts");
  mkdirSync(join(parts, "ok"), { recursive: true });
  for (let i = 0; i < 50; i++) cv.imwrite(join(parts, "ok", `${String(i).padStart(3, "0")}.png`), renderPart({ width: 640, height: 480, seed: 8, defectRate: 0 }, i).image);
  const pkg = join(work, "good-only");
  const args = ["--from", parts, "--good-only", "--anomaly-epochs", "1", "--seed", "3", "--work", join(work, "good-build"), "--out", pkg, "--name", "good-only"];
  const r = spawnSync("bash", ["models/train/pipeline.sh", "all", ...args], { cwd: ROOT, encoding: "utf8", timeout: 170_000 });
  assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
  assert.ok(!existsSync(join(work, "good-build", "model")), "no classifier was trained");
  const m = loadModelPackage(pkg, { engine: "onnx" });
  assert.equal(m.manifest.head, undefined);
  assert.deepEqual(m.manifest.labels, ["ok"]);
  assert.equal(m.anomalyModel, "anomaly.int8.onnx");
  assert.match(readFileSync(join(pkg, "model.yaml"), "utf8"), /# Reproduce: npm run model:all -- --from .* --name good-only --good-only/);
  assert.ok(existsSync(join(pkg, "report.html")));
  const backend = await createBackend({ dir: pkg, intraOpThreads: 1, interOpThreads: 1, spinning: false, graphOptimization: "all", providers: ["cpu"] });
  try {
    assert.equal(backend.info.package!.head, "anomaly");
    const { image } = renderPart({ width: 640, height: 480, seed: 9, defectRate: 0 }, 0);
    const { output } = await backend.infer({ seq: 0, width: 640, height: 480, data: image.getData() });
    assert.equal(output.kind, "anomaly");
  } finally {
    await backend.close?.();
  }
});
