import { test } from "node:test";
import assert from "node:assert/strict";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { FramePoolReader, FramePoolWriter } from "../../daemon/capture/frame-pool.js";
import { checksum, newCamera, waitFor } from "./camera-fixtures.js";

test("frames the line keeps stay intact while later ones arrive; when it keeps them all the camera drops instead of overwriting", async (t) => {
  // queue 2 + 3 held + 1 being filled: six slots.
  const camera = newCamera({ type: "synthetic", width: 96, height: 64, fps: 200, seed: 4, queue: 2 }, 3);
  t.after(() => camera.stop());
  const kept: Array<{ seq: number; data: Buffer; sum: string; release: () => void }> = [];
  let keeping = true;
  let delivered = 0;
  await camera.start((f) => {
    delivered++;
    if (keeping) kept.push({ seq: f.seq, data: f.data, sum: checksum(f.data), release: f.retain() });
  });
  await waitFor("the pool to run dry", () => camera.stats().drops >= 20);
  assert.equal(delivered, 6, "a frame was delivered into a slot the line still held");
  for (const k of kept) assert.equal(checksum(k.data), k.sum, `frame ${k.seq} was overwritten while retained`);

  keeping = false;
  for (const k of kept) k.release();
  const before = delivered;
  await waitFor("frames to flow again", () => delivered >= before + 20);
});

test("a slot is free again once its last holder lets go, and only then", () => {
  const writer = new FramePoolWriter(2, 16);
  const reader = new FramePoolReader(writer.shared);
  const a = writer.take();
  const b = writer.take();
  assert.deepEqual([a, b].sort(), [0, 1]);
  assert.equal(writer.take(), -1);

  const first = reader.retain(a);
  const second = reader.retain(a);
  first();
  first();
  assert.equal(writer.take(), -1, "freed while a holder remained");
  second();
  assert.equal(writer.take(), a);
});

test("a frame its holder forgets is given back by the collector, and reported", async () => {
  setFlagsFromString("--expose-gc");
  const gc = runInNewContext("gc") as () => void;
  const writer = new FramePoolWriter(1, 16);
  const leaked: number[] = [];
  const reader = new FramePoolReader(writer.shared, (slot) => leaked.push(slot));
  const slot = writer.take();
  // Retained and dropped in a frame of its own, so nothing here still refers to the release function.
  (() => void reader.retain(slot))();
  assert.equal(writer.take(), -1);
  for (let i = 0; i < 50 && leaked.length === 0; i++) {
    gc();
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.deepEqual(leaked, [slot]);
  assert.equal(writer.take(), slot);
});
