import { test } from "node:test";
import assert from "node:assert/strict";
import { cv } from "../../daemon/vision/opencv.js";
import { encodeSnapshot } from "../../daemon/vision/snapshot.js";
import { renderPart } from "../../daemon/capture/synthetic-line.js";

const { image, truth } = renderPart({ width: 320, height: 240, seed: 5, defectRate: 1 }, 0);
const frame = { width: image.cols, height: image.rows, data: image.getData() };

test("a snapshot is a JPEG of the frame; higher quality is larger and closer to the frame", async () => {
  const low = await encodeSnapshot(frame, { quality: 20 });
  const high = await encodeSnapshot(frame, { quality: 95 });
  for (const jpg of [low, high]) assert.deepEqual([...jpg.subarray(0, 3)], [0xff, 0xd8, 0xff]);
  assert.ok(high.length > low.length);
  const err = (jpg: Buffer) => cv.imdecode(jpg).absdiff(image).sum();
  const sum = (v: { x: number; y: number; z: number }) => v.x + v.y + v.z;
  assert.ok(sum(err(high) as never) < sum(err(low) as never));
  const back = cv.imdecode(high);
  assert.equal(back.cols, 320);
  assert.equal(back.rows, 240);
});

test("boxes are drawn in their colour on a copy, the frame is untouched", async () => {
  const before = Buffer.from(frame.data);
  const box = truth.box!;
  const jpg = await encodeSnapshot(frame, { quality: 95, boxes: [{ box, label: truth.defect!, color: [0, 255, 0] }] });
  assert.deepEqual(frame.data, before);
  const back = cv.imdecode(jpg);
  // The box's left edge, halfway down: green (JPEG blurs a thin line into its neighbours).
  const px = back.at(box[1] + Math.floor(box[3] / 2), box[0]) as unknown as { x: number; y: number; z: number };
  assert.ok(px.y - px.x > 60 && px.y - px.z > 60, JSON.stringify(px));
});

test("a quality outside 1..100 is a coded error", async () => {
  await assert.rejects(encodeSnapshot(frame, { quality: 0 }), { code: "E_SNAPSHOT" });
  await assert.rejects(encodeSnapshot(frame, { quality: 101 }), { code: "E_SNAPSHOT" });
});
