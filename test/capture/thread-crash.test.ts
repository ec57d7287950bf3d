import { test } from "node:test";
import assert from "node:assert/strict";
import { threadHealth } from "../../daemon/threads/thread-health.js";
import { killThread } from "../fakes/kill-thread.js";
import { newCamera, waitFor } from "./camera-fixtures.js";

test("capture thread crash mid-run (its stay-down policy): the camera reports disconnected, no frame arrives, health shows the thread down", async () => {
  const camera = newCamera({ type: "synthetic", width: 160, height: 120, fps: 100, seed: 3 });
  let frames = 0;
  await camera.start(() => frames++);
  try {
    await waitFor("frames", () => frames >= 5);
    await killThread("capture-worker.js");
    await waitFor("the camera to report the loss", () => !camera.stats().connected);
    const capture = threadHealth().find((t) => t.name === "capture");
    assert.equal(capture?.state, "down");
    assert.equal(capture?.policy, "stay-down");
    assert.equal(capture?.lastError?.code, "E_CAMERA_THREAD");
    const seen = frames;
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(frames, seen, "no frame from a thread that is down");
    assert.equal(camera.stats().connected, false, "it stays down: nothing reconnects it");
  } finally {
    await camera.stop();
  }
  assert.ok(!threadHealth().some((t) => t.name === "capture"));
});
