import { test } from "node:test";
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { Writable } from "node:stream";
import { App } from "../../daemon/app.js";
import { cmdInfer } from "../../daemon/cli/infer.js";
import { decide } from "../../daemon/decide/decide.js";
import { classifyScores } from "../../daemon/inference/classify-head.js";
import { decodeDetections } from "../../daemon/inference/detect-head.js";
import { createBackend } from "../../daemon/inference/onnx-backend.js";
import { lineConfig } from "../fakes/line.js";
import { quietLog } from "../fakes/quiet-log.js";
import { CLASSIFIER, CLASSIFY_IMAGES, nanClassifier, nanDetector } from "./fixtures.js";

const ONNX = { intraOpThreads: 1, interOpThreads: 1, spinning: false, graphOptimization: "all" as const, providers: ["cpu" as const] };
const SETTINGS = { okLabel: "ok", threshold: 0.5, thresholds: {} };
const coded = (code: string, message: RegExp) => (err: Error & { code?: string }) => {
  assert.equal(err.code, code, err.message);
  assert.match(err.message, message);
  return true;
};

test("decide gives no verdict from a NaN or infinite score: NaN compares false with every threshold and would pass", () => {
  for (const bad of [NaN, Infinity, -Infinity]) {
    assert.throws(() => decide({ kind: "classify", scores: [bad, 0.1, 0.1] }, ["ok", "scratch", "stain"], SETTINGS), coded("E_ENGINE_OUTPUT", /no verdict from a non-finite score/));
    assert.throws(() => decide({ kind: "classify", scores: [0.9, bad, 0.1] }, ["ok", "scratch", "stain"], SETTINGS), coded("E_ENGINE_OUTPUT", /class scratch/));
    assert.throws(() => decide({ kind: "detect", detections: [{ class: "scratch", score: bad }] }, ["ok", "scratch"], SETTINGS), coded("E_ENGINE_OUTPUT", /score/));
  }
  // Finite scores still decide as before.
  assert.equal(decide({ kind: "classify", scores: [0.9, 0.05, 0.05] }, ["ok", "scratch", "stain"], SETTINGS).verdict, "pass");
});

test("the heads refuse non-finite model outputs instead of turning them into a pass", () => {
  const head = { type: "classify" as const, activation: "softmax" as const, top_k: 1 };
  assert.throws(() => classifyScores({ dims: [1, 3], data: Float32Array.from([NaN, 0, 0]) }, 0, head), coded("E_ENGINE_OUTPUT", /not finite/));
  assert.throws(() => classifyScores({ dims: [1, 3], data: Float32Array.from([Infinity, 0, 0]) }, 0, head), coded("E_ENGINE_OUTPUT", /not finite/));
  // A -Infinity logit is a class the model rules out: softmax gives it 0.
  assert.deepEqual(classifyScores({ dims: [1, 2], data: Float32Array.from([-Infinity, 0]) }, 0, head), [0, 1]);

  const detect = { type: "detect" as const, layout: "yolov5" as const, conf: 0.25, iou: 0.45, max_det: 100, box_format: "xyxy" as const, normalized: true, background: false };
  const row = (obj: number, cls: number, box = [32, 32, 8, 8]) => [...box, obj, 0, cls];
  const out = (...rows: number[][]) => [{ dims: [1, rows.length, 7], data: Float32Array.from(rows.flat()) }];
  // Before, a NaN objectness or class score was dropped as "under conf": no box, so the part passed.
  assert.throws(() => decodeDetections(out(row(NaN, 0.9)), 0, detect, 2, [64, 64]), coded("E_ENGINE_OUTPUT", /objectness NaN/));
  assert.throws(() => decodeDetections(out(row(0.9, NaN)), 0, detect, 2, [64, 64]), coded("E_ENGINE_OUTPUT", /class score NaN/));
  assert.throws(() => decodeDetections(out(row(0.9, 0.9, [NaN, 32, 8, 8])), 0, detect, 2, [64, 64]), coded("E_ENGINE_OUTPUT", /box coordinate NaN/));
  assert.equal(decodeDetections(out(row(0.9, 0.9), row(0.1, 0.9)), 0, detect, 2, [64, 64]).length, 1);
});

test("a model whose outputs are NaN is refused at warm-up: E_MODEL_OUTPUT", async () => {
  const dir = nanDetector();
  try {
    await assert.rejects(createBackend({ dir, ...ONNX }), coded("E_MODEL_OUTPUT", /warm-up run: output output0 \[1,5,8\] holds NaN at index 4/));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a model that computes NaN from real pixels (an overflowing input scale) is refused at warm-up, where a zero input would hide it", async () => {
  const dir = nanClassifier();
  try {
    await assert.rejects(createBackend({ dir, variant: "float32", ...ONNX }), coded("E_MODEL_OUTPUT", /holds (NaN|-?Infinity)/));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("infer refuses a NaN model with its code and exit 1, never 'pass ... ok NaN' and 0", async () => {
  const dir = nanDetector();
  let text = "";
  const out = new Writable({ write: (c, _e, cb) => ((text += String(c)), cb()) });
  try {
    await assert.rejects(cmdInfer(["--model", dir, "--json", `${CLASSIFY_IMAGES}/ok-00.png`], out), coded("E_MODEL_OUTPUT", /NaN/));
    assert.doesNotMatch(text, /pass/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a hot swap to a NaN model is refused and the running model kept", async () => {
  const yaml = `
line: { mode: free-run, travel_ms: 400, decision_margin_ms: 20 }
camera: { type: synthetic, width: 160, height: 120, fps: 20, seed: 5, defect_rate: 0.3 }
engine: { type: onnx, package: ${JSON.stringify(CLASSIFIER)}, variant: float32, providers: [cpu], threads: { intra_op: 1 } }
lifecycle: { progress_report_ms: 60000 }
`;
  const app = new App(lineConfig(yaml), quietLog());
  const dir = nanClassifier();
  await app.start();
  try {
    await assert.rejects(app.swapModel(dir, "float32"), coded("E_MODEL_OUTPUT", /model swap refused, keeping tiny-classifier 1\.0\.0/));
    assert.equal(app.health().modelVersion, "1.0.0");
  } finally {
    await app.stop("test");
    rmSync(dir, { recursive: true, force: true });
  }
});
