import { test } from "node:test";
import assert from "node:assert/strict";
import type { CameraFrame } from "../../daemon/capture/camera.js";
import { FrameSampler } from "../../daemon/http/frame-sampler.js";

function frame(seq: number, tCaptureMs: number, shade: number): CameraFrame {
  return { seq, tCaptureMs, width: 4, height: 2, data: Buffer.alloc(4 * 2 * 3, shade), retain: () => () => {} };
}

test("the sampler pins one frame per interval, keeps the last few as they were, and reuses the oldest pin's buffer", () => {
  // Every 500 ms, verdicts up to 1000 ms late: ceil((1000 + 1000) / 500) + 1 = 5 pins.
  const sampler = new FrameSampler(500, 1000);
  const offered: CameraFrame[] = [];
  for (let i = 0; i < 40; i++) {
    const f = frame(i, i * 100, i);
    offered.push(f);
    sampler.offer(f);
    // The camera's slot is refilled with the next frame once the sink returns.
    f.data.fill(255);
  }
  const pinned = offered.filter((f) => sampler.get(f.seq));
  assert.deepEqual(
    pinned.map((f) => f.seq),
    [15, 20, 25, 30, 35],
  );
  for (const f of pinned) assert.ok(sampler.get(f.seq)!.data.every((b) => b === f.seq), `pin ${f.seq} does not hold its own pixels`);
  const buffers = new Set(pinned.map((f) => sampler.get(f.seq)!.data.buffer));
  assert.equal(buffers.size, 5, "two pins share a buffer");

  // A larger frame gets a buffer of its own size.
  const big: CameraFrame = { ...frame(40, 4000, 7), width: 8, data: Buffer.alloc(8 * 2 * 3, 7) };
  sampler.offer(big);
  assert.equal(sampler.get(40)!.data.length, 8 * 2 * 3);
  assert.equal(sampler.get(15), undefined);
});
