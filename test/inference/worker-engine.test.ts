import { test } from "node:test";
import assert from "node:assert/strict";
import { WorkerEngine } from "../../daemon/inference/worker-engine.js";
import { threadHealth } from "../../daemon/threads/thread-health.js";
import type { Frame } from "../../daemon/capture/camera.js";
import { faultyEngine } from "../fakes/line.js";
import { quietLog } from "../fakes/quiet-log.js";

const frame = (seq: number): Frame => ({ seq, tCaptureMs: 0, width: 4, height: 4, data: Buffer.alloc(48) });

async function until(what: () => boolean): Promise<void> {
  const t0 = Date.now();
  while (!what()) {
    if (Date.now() - t0 > 30_000) assert.fail("the engine did not come back");
    await new Promise((r) => setTimeout(r, 10));
  }
}

test("engine worker crash mid-run (its restart policy): the frame in flight fails with E_ENGINE_FAILED, the next is judged by the new worker", async () => {
  // Frame 5 (seq % 5 === 0) exits the worker from inside the backend.
  const engine = new WorkerEngine(faultyEngine({ fault: "crash", every: 5 }, { hangTimeoutMs: 30_000 }), quietLog());
  await engine.load();
  try {
    const judged = await engine.infer(frame(1));
    assert.equal(judged.output.kind, "classify");
    await assert.rejects(engine.infer(frame(5)), (err: Error & { code?: string }) => {
      assert.equal(err.code, "E_ENGINE_FAILED");
      assert.match(err.message, /engine thread exited with code 3/);
      return true;
    });
    // While it restarts, a part is refused at once (it fails safe upstream), never queued behind a dead thread.
    const during = await engine.infer(frame(6)).then(
      () => "judged",
      (err: { code?: string }) => err.code,
    );
    assert.ok(during === "judged" || during === "E_ENGINE_FAILED", String(during));
    await until(() => threadHealth().some((t) => t.name === "engine" && t.state === "running" && t.restarts === 1));
    const next = await engine.infer(frame(7));
    assert.equal(next.output.kind, "classify");
    assert.equal(engine.pending(), 0);
  } finally {
    await engine.close();
  }
  assert.ok(!threadHealth().some((t) => t.name === "engine"), "a closed engine leaves no thread behind");
});
