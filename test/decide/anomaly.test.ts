import { test } from "node:test";
import assert from "node:assert/strict";
import { decide } from "../../daemon/decide/decide.js";
import { outcomeReason } from "../../daemon/pipeline/part.js";
import type { AnomalyOutput, EngineOutput, HeatMap } from "../../daemon/inference/engine.js";

const labels = ["ok", "scratch", "stain"];
const settings = { okLabel: "ok", threshold: 0.5, thresholds: { stain: 0.3 } };
const map: HeatMap = { width: 2, height: 1, data: new Uint8Array([0, 255]), transform: { scaleX: 0.25, scaleY: 0.25, padX: 0, padY: 0, offsetX: 0, offsetY: 0 } };
const anomaly = (score: number, more: Partial<AnomalyOutput> = {}): AnomalyOutput => ({ score, threshold: 0.6, ...more });
const classify = (scores: number[], a?: AnomalyOutput): EngineOutput => ({ kind: "classify", scores, ...(a ? { anomaly: a } : {}) });

test("the anomaly head rejects a part the classifier passes: reason anomaly, with its score, box and map", () => {
  const j = decide(classify([0.9, 0.05, 0.05], anomaly(0.8, { box: [4, 0, 4, 4], map })), labels, settings);
  assert.equal(j.verdict, "reject");
  assert.deepEqual(j.findings, [{ class: "anomaly", score: 0.8, box: [4, 0, 4, 4] }]);
  assert.equal(j.heatmap, map);
  assert.equal(outcomeReason(j), "anomaly");
});

test("both heads fire: the classifier's class decides the reason, the anomaly finding follows", () => {
  const j = decide(classify([0.1, 0.1, 0.8], anomaly(0.95, { map })), labels, settings);
  assert.deepEqual(j.findings.map((f) => f.class), ["stain", "anomaly"]);
  assert.equal(outcomeReason(j), "stain");
  assert.equal(j.heatmap, map);
});

test("an anomaly score at its threshold rejects, under it passes, and the classifier alone decides then", () => {
  assert.equal(decide(classify([0.9, 0.05, 0.05], anomaly(0.6)), labels, settings).verdict, "reject");
  const pass = decide(classify([0.9, 0.05, 0.05], anomaly(0.5999)), labels, settings);
  assert.equal(pass.verdict, "pass");
  assert.deepEqual(pass.findings, [{ class: "ok", score: 0.9 }]);
  assert.equal(pass.heatmap, undefined);
  const scratch = decide(classify([0.2, 0.7, 0.1], anomaly(0.1)), labels, settings);
  assert.deepEqual(scratch.findings.map((f) => f.class), ["scratch"]);
});

test("an anomaly-only output: reject over the threshold, pass with no findings under it", () => {
  const reject = decide({ kind: "anomaly", anomaly: anomaly(0.7, { box: [1, 2, 3, 4] }) }, ["ok"], settings);
  assert.equal(outcomeReason(reject), "anomaly");
  const pass = decide({ kind: "anomaly", anomaly: anomaly(0.2) }, ["ok"], settings);
  assert.deepEqual(pass, { verdict: "pass", findings: [] });
});

test("a non-finite anomaly score or threshold gives no verdict: E_ENGINE_OUTPUT", () => {
  for (const a of [anomaly(Number.NaN), anomaly(0.5, { threshold: Number.NaN }), anomaly(Number.POSITIVE_INFINITY)]) {
    assert.throws(() => decide(classify([0.9, 0.05, 0.05], a), labels, settings), (e: Error & { code?: string }) => e.code === "E_ENGINE_OUTPUT");
  }
});

test("an output without an anomaly head is decided exactly as before", () => {
  assert.deepEqual(decide(classify([0.9, 0.05, 0.05]), labels, settings), { verdict: "pass", findings: [{ class: "ok", score: 0.9 }] });
  assert.deepEqual(decide(classify([0.5, 0.1, 0.4]), labels, settings), { verdict: "reject", findings: [{ class: "stain", score: 0.4 }] });
  const det: EngineOutput = { kind: "detect", detections: [{ class: "scratch", score: 0.7, box: [1, 1, 2, 2] }] };
  assert.deepEqual(decide(det, labels, settings), { verdict: "reject", findings: [{ class: "scratch", score: 0.7, box: [1, 1, 2, 2] }] });
});
