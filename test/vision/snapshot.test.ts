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

test("a heat map is blended onto the frame pixels it covers, in false colour, and nowhere else", async () => {
  // A grey 200x100 frame whose middle 100x100 was the model's input, its 20x10 map cold on the left, hot on the right.
  const grey = { width: 200, height: 100, data: new Uint8Array(200 * 100 * 3).fill(160) };
  const data = new Uint8Array(20 * 10);
  for (let v = 0; v < 10; v++) data.fill(255, v * 20 + 10, v * 20 + 20);
  const heatmap = { width: 20, height: 10, data, transform: { scaleX: 0.2, scaleY: 0.1, padX: 0, padY: 0, offsetX: 50, offsetY: 0 } };
  const back = cv.imdecode(await encodeSnapshot(grey, { quality: 95, heatmap }));
  const bgr = (x: number) => {
    const p = back.at(50, x) as unknown as { x: number; y: number; z: number };
    return [p.x, p.y, p.z];
  };
  const near = (got: number[], want: number[]) => got.every((g, i) => Math.abs(g - want[i]!) <= 8);
  // JET's ends are dark blue (128, 0, 0) and dark red (0, 0, 128), 45% of each pixel.
  const blend = (c: number[]) => c.map((v) => 0.55 * 160 + 0.45 * v);
  for (const x of [10, 40, 160, 190]) assert.ok(near(bgr(x), [160, 160, 160]), `x ${x} outside the map: ${bgr(x).join(",")}`);
  for (const x of [60, 90]) assert.ok(near(bgr(x), blend([128, 0, 0])), `x ${x} cold: ${bgr(x).join(",")}`);
  for (const x of [110, 140]) assert.ok(near(bgr(x), blend([0, 0, 128])), `x ${x} hot: ${bgr(x).join(",")}`);
  assert.ok(grey.data.every((v) => v === 160), "the frame itself is untouched");
});
