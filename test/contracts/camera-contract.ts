import { test } from "node:test";
import assert from "node:assert/strict";
import type { Camera, CameraFrame } from "../../daemon/capture/camera.js";
import { threadHealth } from "../../daemon/threads/thread-health.js";
import { rejectsCoded, until } from "./coded.js";

export interface CameraUnderTest {
  /** A camera on a source that opens; `held`: frames the suite keeps retained at once. */
  make(held: number): Camera;
  /** A camera on a source that cannot open, and the codes it may refuse with; absent where no such source exists (synthetic). */
  broken?: { make(): Camera; codes: string[] };
  cleanup(): void;
}

/** What every Camera does, whatever it reads. */
export function cameraContract(name: string, setup: () => CameraUnderTest, canBeMissing: boolean): void {
  test(`Camera contract (${name}): frames in order and of their size, counters only grow, a retained frame keeps its pixels, stop stops everything and twice is harmless`, async () => {
    const u = setup();
    try {
      const camera = u.make(1);
      const frames: Array<{ seq: number; t: number; ok: boolean }> = [];
      let kept: { frame: CameraFrame; copy: Buffer; release: () => void } | undefined;
      const samples: number[] = [];
      await camera.start((f) => {
        frames.push({ seq: f.seq, t: f.tCaptureMs, ok: f.data.length === f.width * f.height * 3 });
        if (!kept) kept = { frame: f, copy: Buffer.from(f.data), release: f.retain() };
      });
      assert.equal(camera.stats().connected, true, "connected once start resolved");
      await until("ten frames", () => {
        samples.push(camera.stats().frames);
        return frames.length >= 10;
      });
      assert.ok(frames.every((f) => f.ok), "every frame holds width x height x 3 bytes");
      assert.ok(frames.every((f, i) => i === 0 || (f.seq > frames[i - 1]!.seq && f.t >= frames[i - 1]!.t)), "in order");
      assert.ok(samples.every((n, i) => i === 0 || n >= samples[i - 1]!), "frames counter never goes back");
      assert.ok(kept && kept.frame.data.equals(kept.copy), "a retained frame's pixels stay as they were while later frames arrive");
      kept.release();

      await camera.stop();
      const stopped = frames.length;
      const s = camera.stats();
      assert.equal(s.connected, false);
      assert.ok(s.frames >= stopped && s.drops >= 0 && s.reconnects >= 0 && s.stalls >= 0);
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(frames.length, stopped, "no frame after stop resolved");
      await camera.stop();
      assert.ok(!threadHealth().some((t) => t.name === "capture"), "no capture thread left behind");
    } finally {
      u.cleanup();
    }
  });

  if (!canBeMissing) return;
  test(`Camera contract (${name}): a source that cannot open refuses start with its code and leaves nothing running`, async () => {
    const u = setup();
    try {
      assert.ok(u.broken, "a source that can be missing gives a broken camera");
      const camera = u.broken.make();
      await rejectsCoded(camera.start(() => assert.fail("no frame from a source that did not open")), u.broken.codes, "start");
      assert.equal(camera.stats().connected, false);
      assert.ok(!threadHealth().some((h) => h.name === "capture"), "no capture thread left behind");
      await camera.stop();
    } finally {
      u.cleanup();
    }
  });
}
