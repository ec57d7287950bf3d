import { test } from "node:test";
import assert from "node:assert/strict";
import { classifyScores, mergeTileScores } from "../../daemon/inference/classify-head.js";
import { decodeDetections, mergeTiles, toFrame } from "../../daemon/inference/detect-head.js";
import { nms, iou } from "../../daemon/inference/nms.js";
import { tileRects } from "../../daemon/vision/tiling.js";
import type { DetectHeadSpec } from "../../daemon/inference/manifest.js";

const close = (a: number, b: number, eps = 1e-6) => assert.ok(Math.abs(a - b) < eps, `${a} vs ${b}`);
const head = (layout: DetectHeadSpec["layout"], more: Partial<DetectHeadSpec> = {}): DetectHeadSpec => ({
  type: "detect", layout, conf: 0.25, iou: 0.5, max_det: 100, box_format: "xyxy", normalized: true, background: false, ...more,
});

test("classify: softmax, sigmoid and top-k by hand", () => {
  const t = { dims: [1, 3], data: Float32Array.from([0, Math.log(2), Math.log(5)]) };
  const s = classifyScores(t, 0, { type: "classify", activation: "softmax", top_k: 3 });
  [1 / 8, 2 / 8, 5 / 8].forEach((v, i) => close(s[i]!, v));
  const k1 = classifyScores(t, 0, { type: "classify", activation: "softmax", top_k: 1 });
  assert.deepEqual(k1.map((v) => v > 0), [false, false, true]);
  const sg = classifyScores({ dims: [2, 2], data: Float32Array.from([9, 9, 0, Math.log(3)]) }, 1, { type: "classify", activation: "sigmoid", top_k: 2 });
  close(sg[0]!, 0.5);
  close(sg[1]!, 0.75);
  assert.deepEqual(mergeTileScores([[0.1, 0.9], [0.7, 0.2]]), [0.7, 0.9]);
});

test("nms is per class and greedy by score", () => {
  close(iou([0, 0, 10, 10], [5, 0, 15, 10]), 50 / 150);
  const kept = nms(
    [
      { box: [0, 0, 10, 10], cls: 0, score: 0.6 },
      { box: [1, 0, 11, 10], cls: 0, score: 0.9 },
      { box: [1, 0, 11, 10], cls: 1, score: 0.5 },
      { box: [20, 20, 30, 30], cls: 0, score: 0.3 },
    ],
    0.5,
    10,
  );
  assert.deepEqual(kept.map((d) => [d.cls, d.score]), [[0, 0.9], [1, 0.5], [0, 0.3]]);
});

test("yolov8 layout [1, 4+C, N] decodes column-wise; ssd yxyx with background", () => {
  // two boxes, two classes: rows cx, cy, w, h, c0, c1
  const v8 = { dims: [1, 6, 2], data: Float32Array.from([10, 30, 10, 30, 4, 2, 4, 2, 0.1, 0.2, 0.8, 0.1]) };
  const d = decodeDetections([v8], 0, head("yolov8"), 2, [64, 64]);
  assert.equal(d.length, 1);
  assert.deepEqual(d[0], { box: [8, 8, 12, 12], cls: 1, score: Float32Array.from([0.8])[0] });
  const boxes = { dims: [1, 1, 4], data: Float32Array.from([0.25, 0.5, 0.75, 1]) }; // y1 x1 y2 x2
  const scores = { dims: [1, 1, 3], data: Float32Array.from([0.9, 0.05, 0.6]) }; // background first
  const s = decodeDetections([boxes, scores], 0, head("ssd", { box_format: "yxyx", background: true }), 2, [100, 200]);
  assert.deepEqual(s.map((x) => [x.cls, x.box]), [[1, [100, 25, 200, 75]]]);
});

test("a detect output that cannot hold the labels is refused with E_MODEL_LABELS", () => {
  const v5 = { dims: [1, 3, 7], data: new Float32Array(21) };
  assert.throws(() => decodeDetections([v5], 0, head("yolov5"), 3, [64, 64]), { code: "E_MODEL_LABELS" });
});

test("tiles overlap, cover the region, and one defect seen by two tiles is reported once in frame pixels", () => {
  const rects = tileRects({ x: 0, y: 0, w: 200, h: 100 }, { cols: 2, rows: 1, overlap: 0.5 });
  // tile width ceil(200 / (2 - 0.5)) = 134; the second starts at 200 - 134 = 66
  assert.deepEqual(rects, [{ x: 0, y: 0, w: 134, h: 100 }, { x: 66, y: 0, w: 134, h: 100 }]);
  // A defect at frame x 90..110, y 40..60 lies in the overlap (66..134). Each tile is
  // stretched to 67x50 (scale 0.5): tile 0 sees it at input x 45..55, tile 1 at 12..22.
  const h = head("yolov5");
  const t0 = toFrame([{ box: [45, 20, 55, 30], cls: 1, score: 0.8 }], { scaleX: 0.5, scaleY: 0.5, padX: 0, padY: 0, offsetX: 0, offsetY: 0 }, rects[0]!);
  const t1 = toFrame([{ box: [12, 20, 22, 30], cls: 1, score: 0.7 }], { scaleX: 0.5, scaleY: 0.5, padX: 0, padY: 0, offsetX: 66, offsetY: 0 }, rects[1]!);
  const merged = mergeTiles([t0, t1], h);
  assert.deepEqual(merged, [{ box: [90, 40, 110, 60], cls: 1, score: 0.8 }]);
  // A letterboxed tile: scale 0.5 with 10 px of padding on top.
  const lb = toFrame([{ box: [10, 20, 30, 40], cls: 0, score: 0.5 }], { scaleX: 0.5, scaleY: 0.5, padX: 0, padY: 10, offsetX: 100, offsetY: 50 }, { w: 200, h: 200 });
  assert.deepEqual(lb[0]!.box, [120, 70, 160, 110]);
});
