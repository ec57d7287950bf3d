import { test } from "node:test";
import assert from "node:assert/strict";
import { copyFileSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { createBackend } from "../../daemon/inference/onnx-backend.js";
import { createBackend as tfjsBackend } from "../../daemon/inference/tfjs-backend.js";
import { loadModelPackage } from "../../daemon/inference/model-package.js";
import { checkOutput } from "../../daemon/inference/output-check.js";
import type { Backend, BackendFrame } from "../../daemon/inference/backend.js";
import type { EngineOutput } from "../../daemon/inference/engine.js";
import { decide } from "../../daemon/decide/decide.js";
import { readImageFile } from "../../daemon/vision/read-image.js";
import { cv } from "../../daemon/vision/opencv.js";
import { CLASSIFIER, CLASSIFY_IMAGES, FIXTURES, editedPackage, type Manifest } from "./fixtures.js";

/**
 * The anomaly head on tiny-anomaly (models/tools/make_anomaly_fixture.py),
 * whose map is "how saturated red is this pixel": known answers for the
 * score, the peak box in frame pixels and the verdict, alone and beside the
 * tiny classifier; and every malformed anomaly package refused at load with
 * its code.
 */
const ANOMALY = `${FIXTURES}models/tiny-anomaly`;
const ONNX = { intraOpThreads: 1, interOpThreads: 1, spinning: false, graphOptimization: "all" as const, providers: ["cpu" as const] };

/** A 640x480 mid-grey frame with a red rectangle at [x, y, w, h]. */
function redFrame(box: [number, number, number, number]): BackendFrame {
  const img = new cv.Mat(480, 640, cv.CV_8UC3, [128, 128, 128]);
  img.drawRectangle(new cv.Rect(...box), new cv.Vec3(0, 0, 255), -1);
  return { seq: 1, width: 640, height: 480, data: img.getData() };
}

function imageFrame(path: string): BackendFrame {
  const m = readImageFile(path);
  return { seq: 2, width: m.cols, height: m.rows, data: m.getData() };
}

const settingsOf = (b: Backend) => {
  const p = b.info.package!;
  return { okLabel: p.okLabel, threshold: p.thresholds.default, thresholds: p.thresholds.perClass };
};

/** The tiny classifier with tiny-anomaly's model beside it on its float and int8 variants. */
function combined(edit: (m: Manifest, dir: string) => void = () => {}): string {
  return editedPackage((dir, m) => {
    copyFileSync(join(ANOMALY, "anomaly.onnx"), join(dir, "anomaly.onnx"));
    m.files.push({ path: "anomaly.onnx", sha256: "", bytes: 0 });
    const v = m.variants as Record<string, Record<string, unknown>>;
    v.float32!.anomaly_model = "anomaly.onnx";
    v.int8!.anomaly_model = "anomaly.onnx";
    m.anomaly = { threshold: 0.5 };
    edit(m, dir);
  });
}

test("an anomaly-only package rejects a part unlike the good ones: reason anomaly, its score, the peak box in frame pixels and the map", async () => {
  const b = await createBackend({ dir: ANOMALY, ...ONNX });
  try {
    assert.equal(b.info.package!.head, "anomaly");
    assert.deepEqual(b.info.package!.anomaly, { threshold: 0.5 });
    const { output } = await b.infer(redFrame([400, 96, 60, 48]));
    assert.equal(output.kind, "anomaly");
    const j = decide(checkOutput(output, b.info.labels), b.info.labels, settingsOf(b));
    assert.equal(j.verdict, "reject");
    assert.equal(j.findings.length, 1);
    const f = j.findings[0]!;
    assert.equal(f.class, "anomaly");
    assert.ok(f.score > 0.99, `score ${f.score}`);
    // The 64x64 map has 10-pixel cells over the 640x480 frame: the box holds the red rectangle to within a cell.
    const [x, y, w, h] = f.box!;
    assert.ok(Math.abs(x - 400) <= 10 && Math.abs(y - 96) <= 7.5, `box ${f.box}`);
    assert.ok(Math.abs(x + w - 460) <= 10 && Math.abs(y + h - 144) <= 7.5, `box ${f.box}`);
    assert.equal(j.heatmap!.width, 64);
    assert.equal(j.heatmap!.height, 64);
    assert.equal(j.heatmap!.data.length, 64 * 64);
    // The map is the red square: bright inside, dark elsewhere.
    const at = (u: number, v: number) => j.heatmap!.data[v * 64 + u]!;
    assert.ok(at(43, 15) > 240 && at(5, 50) < 10, `map ${at(43, 15)} inside, ${at(5, 50)} outside`);

    const good = await b.infer(imageFrame(join(CLASSIFY_IMAGES, "ok-00.png")));
    const pass = decide(good.output, b.info.labels, settingsOf(b));
    assert.equal(pass.verdict, "pass");
    assert.equal(pass.heatmap, undefined);
    assert.ok(good.output.kind === "anomaly" && good.output.anomaly.score < 0.5 && good.output.anomaly.map === undefined);
  } finally {
    await b.close?.();
  }
});

test("beside a classifier: either head rejects, the reason says which, and a part both pass passes", async () => {
  const dir = combined();
  const b = await createBackend({ dir, variant: "float32", ...ONNX });
  try {
    const judge = async (frame: BackendFrame) => decide((await b.infer(frame)).output, b.info.labels, settingsOf(b));
    // The classifier's golden scratch: the classifier rejects, the anomaly head does not (no red).
    const scratch = await judge(imageFrame(join(dir, "golden", "scratch-01.png")));
    assert.equal(scratch.verdict, "reject");
    assert.equal(scratch.findings[0]!.class, "scratch");
    assert.ok(!scratch.findings.some((f) => f.class === "anomaly"));
    // A good part with a red patch: the classifier was never shown one; the anomaly head rejects it.
    const ok = readImageFile(join(CLASSIFY_IMAGES, "ok-00.png"));
    ok.drawRectangle(new cv.Rect(Math.round(ok.cols * 0.7), Math.round(ok.rows * 0.1), Math.round(ok.cols * 0.15), Math.round(ok.rows * 0.15)), new cv.Vec3(0, 0, 255), -1);
    const red = await judge({ seq: 3, width: ok.cols, height: ok.rows, data: ok.getData() });
    assert.equal(red.verdict, "reject");
    assert.equal(red.findings.at(-1)!.class, "anomaly");
    assert.ok(red.heatmap);
    const good = await judge(imageFrame(join(CLASSIFY_IMAGES, "ok-00.png")));
    assert.equal(good.verdict, "pass");
    assert.equal(good.findings[0]!.class, "ok");
  } finally {
    await b.close?.();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a package without an anomaly head judges exactly as before: no anomaly in its output", async () => {
  const b = await createBackend({ dir: CLASSIFIER, variant: "float32", ...ONNX });
  try {
    assert.equal(b.info.package!.anomaly, undefined);
    const { output } = await b.infer(imageFrame(join(CLASSIFY_IMAGES, "ok-00.png")));
    assert.equal(output.kind, "classify");
    assert.ok(!("anomaly" in output));
  } finally {
    await b.close?.();
  }
});

test("the TF.js variant of a package with an anomaly head runs its classifier and says the anomaly head is off", async () => {
  const dir = combined();
  const b = await tfjsBackend({ dir, variant: "tfjs", backends: ["cpu"] });
  try {
    assert.equal(b.info.package!.head, "classify");
    assert.equal(b.info.package!.anomaly, undefined);
    assert.ok(b.info.package!.notes.some((n) => /no anomaly model/.test(n)), b.info.package!.notes.join("; "));
  } finally {
    await b.close?.();
    rmSync(dir, { recursive: true, force: true });
  }
});

async function refused(dir: string, code: string, message: RegExp, variant = "float32") {
  try {
    await assert.rejects(createBackend({ dir, variant, ...ONNX }), (err: Error & { code?: string }) => {
      assert.equal(err.code, code, err.message);
      assert.match(err.message, message);
      return true;
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const withModel = (file: string) =>
  editedPackage(
    (_d, m) => {
      (m.variants as Record<string, Record<string, unknown>>).float32!.anomaly_model = file;
    },
    true,
    ANOMALY,
  );

test("an anomaly model without its map output is refused at load: E_MODEL_SHAPE", async () => {
  await refused(withModel("anomaly-no-map.onnx"), "E_MODEL_SHAPE", /no map output 'anomaly_map' \(outputs: anomaly_score\)/);
});

test("an anomaly map smaller than the model input is refused at load: E_MODEL_SHAPE", async () => {
  await refused(withModel("anomaly-small-map.onnx"), "E_MODEL_SHAPE", /anomaly map output \[1,1,32,32\] is not \[1, 1, 64, 64\]/);
});

test("an anomaly model that computes NaN is refused at load: E_MODEL_OUTPUT", async () => {
  await refused(withModel("anomaly-nan.onnx"), "E_MODEL_OUTPUT", /warm-up run: output anomaly_score \[1,1\] holds NaN/);
});

test("an anomaly threshold outside 0..1 is refused: E_MODEL_MANIFEST", async () => {
  for (const threshold of [1.5, -0.1]) {
    const dir = editedPackage((_d, m) => void (m.anomaly = { threshold }), true, ANOMALY);
    await refused(dir, "E_MODEL_MANIFEST", /anomaly\.threshold: Number must be (less|greater) than or equal to/);
  }
});

test("anomaly models and heads must match: each is refused with the field at fault", async () => {
  // An anomaly model without the anomaly section (no threshold to judge by).
  const noSection = editedPackage(
    (_d, m) => {
      delete m.anomaly;
      m.golden = (m.golden as unknown[]).slice(0, 1);
    },
    true,
    ANOMALY,
  );
  await refused(noSection, "E_MODEL_MANIFEST", /variants\.float32\.anomaly_model: the manifest has no anomaly section/);
  // An anomaly section no variant runs.
  await refused(
    editedPackage((_d, m) => void (m.anomaly = { threshold: 0.5 }), true, CLASSIFIER),
    "E_MODEL_MANIFEST",
    /anomaly: no variant has an anomaly_model/,
  );
  // A label named like the anomaly head's finding.
  await refused(combined((m) => void (m.labels = ["ok", "scratch", "anomaly", "hole"])), "E_MODEL_LABELS", /'anomaly' is the anomaly head's finding/);
  // A golden image the anomaly head should reject but passes.
  await refused(
    editedPackage((_d, m) => void ((m.golden as Array<{ expect: string }>)[0]!.expect = "anomaly"), true, ANOMALY),
    "E_MODEL_GOLDEN",
    /golden image golden\/ok-00\.png: expected anomaly, the model says ok/,
  );
});

test("an engine output whose anomaly is not a probability, or whose map does not fit its size, is refused: E_ENGINE_OUTPUT", () => {
  const map = { width: 2, height: 2, data: new Uint8Array(4), transform: { scaleX: 1, scaleY: 1, padX: 0, padY: 0, offsetX: 0, offsetY: 0 } };
  const outputs: unknown[] = [
    { kind: "anomaly", anomaly: { score: Number.NaN, threshold: 0.5 } },
    { kind: "anomaly", anomaly: { score: 0.7, threshold: 2 } },
    { kind: "anomaly" },
    { kind: "classify", scores: [1], anomaly: { score: 0.9, threshold: 0.5, map: { ...map, data: new Uint8Array(3) } } },
    { kind: "classify", scores: [1], anomaly: { score: 0.9, threshold: 0.5, box: [1, 2, 3] } },
  ];
  for (const o of outputs) assert.throws(() => checkOutput(o, ["ok"]), (e: Error & { code?: string }) => e.code === "E_ENGINE_OUTPUT", JSON.stringify(o));
  const good = { kind: "classify", scores: [1], anomaly: { score: 0.9, threshold: 0.5, box: [1, 2, 3, 4], map } };
  assert.deepEqual(checkOutput(good, ["ok"]), good as EngineOutput);
});

test("the anomaly-only fixture loads: no head, labels [ok], the anomaly model listed and verified", () => {
  const pkg = loadModelPackage(ANOMALY, { engine: "onnx" });
  assert.equal(pkg.manifest.head, undefined);
  assert.equal(pkg.model, undefined);
  assert.equal(pkg.anomalyModel, "anomaly.onnx");
  assert.equal(pkg.files.get("anomaly.onnx")!.length, readFileSync(join(ANOMALY, "anomaly.onnx")).length);
});
