import { test } from "node:test";
import assert from "node:assert/strict";
import { createBackend } from "../../daemon/inference/onnx-backend.js";
import type { Finding } from "../../daemon/pipeline/part.js";
import { FIXTURES } from "./fixtures.js";

/**
 * The *-const models (models/tools/make_detectors.py) output the same five
 * rows whatever the image. On a 128x64 frame the 64x64 letterbox scales by
 * 0.5 and pads 16 rows on top, so input (x, y) is frame (2x, 2(y - 16)):
 *   row 0 scratch 0.9*0.8 box 24..40 x 28..36 → frame [48, 24, 32, 16]
 *   row 1 scratch 0.64, IoU 0.88 with row 0  → suppressed
 *   row 2 stain 0.9*0.6 on row 0's box       → kept (NMS is per class)
 *   row 3 objectness 0.1                      → under conf 0.25
 *   row 4 stain 0.5*0.7 box 44..52 x 16..24  → frame [88, 0, 16, 16]
 */
const EXPECTED: Finding[] = [
  { class: "scratch", score: 0.72, box: [48, 24, 32, 16] },
  { class: "stain", score: 0.54, box: [48, 24, 32, 16] },
  { class: "stain", score: 0.35, box: [88, 0, 16, 16] },
];

const frame = { seq: 1, width: 128, height: 64, data: new Uint8Array(128 * 64 * 3).fill(90) };

for (const layout of ["yolov5", "yolov8", "ssd"]) {
  test(`${layout} export layout: decode, class-aware NMS and letterbox undo give the hand-computed boxes`, async () => {
    const b = await createBackend({ dir: `${FIXTURES}models/${layout}-const`, intraOpThreads: 1, interOpThreads: 1, spinning: false, graphOptimization: "all", providers: ["cpu"] });
    assert.equal(b.info.package?.head, "detect");
    const r = await b.infer(frame);
    await b.close?.();
    assert.equal(r.output.kind, "detect");
    if (r.output.kind !== "detect") return;
    assert.equal(r.output.detections.length, EXPECTED.length, JSON.stringify(r.output.detections));
    r.output.detections.forEach((d, i) => {
      const e = EXPECTED[i]!;
      assert.equal(d.class, e.class);
      assert.ok(Math.abs(d.score - e.score) < 1e-5, `score ${d.score} vs ${e.score}`);
      d.box!.forEach((v, k) => assert.ok(Math.abs(v - e.box![k]!) < 1e-3, `box ${d.box} vs ${e.box}`));
    });
  });
}
