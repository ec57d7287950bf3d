import { test } from "node:test";
import assert from "node:assert/strict";
import { SharedEngines } from "../../daemon/house/shared-engines.js";
import type { WorkerEngineOptions } from "../../daemon/inference/worker-engine.js";
import type { Frame } from "../../daemon/capture/camera.js";
import { errorCode } from "../../daemon/util/errors.js";
import { quietLog } from "../fakes/quiet-log.js";

function simulated(seed: number, queue: number, latencyMs = 150): WorkerEngineOptions {
  return {
    module: new URL("../../daemon/inference/simulated-backend.js", import.meta.url).href,
    options: { labels: ["ok", "scratch"], okLabel: "ok", latencyMs, errorRate: 0, seed },
    queue,
    hangTimeoutMs: 10_000,
    loadTimeoutMs: 30_000,
  };
}

const frame = (seq: number): Frame => ({ seq, tCaptureMs: 0, width: 8, height: 8, data: Buffer.alloc(8 * 8 * 3) });
const refusal = (p: Promise<unknown>) => p.then(() => "answered", (err: unknown) => errorCode(err));

test("lines on one model share one engine, each within its own queue: a full line cannot starve the other", async () => {
  const engines = new SharedEngines();
  const a = engines.share(simulated(1, 1), quietLog());
  const b = engines.share(simulated(1, 1), quietLog());
  const other = engines.share(simulated(2, 1, 1), quietLog());
  try {
    const [ia, ib, io] = await Promise.all([a.load(), b.load(), other.load()]);
    assert.equal(ia, ib, "one load, one engine for the same model");
    assert.notEqual(ia, io, "another model has an engine of its own");
    const first = a.infer(frame(1));
    // Line a has its one request waiting: its next is refused; line b's is taken all the same.
    assert.equal(await refusal(a.infer(frame(2))), "E_ENGINE_OVERLOAD");
    const fromB = b.infer(frame(3));
    assert.equal(a.pending(), 1);
    assert.equal(b.pending(), 1);
    await Promise.all([first, fromB]);
    assert.equal(a.pending() + b.pending(), 0);
    // One line gone (closed): the other keeps the engine.
    await a.close();
    assert.equal(await refusal(a.infer(frame(4))), "E_ENGINE_FAILED");
    assert.equal((await b.infer(frame(5))).modelVersion, ia.version);
  } finally {
    await Promise.all([a.close(), b.close(), other.close()]);
  }
  // The last share closed the engine itself.
  assert.equal(await refusal(b.infer(frame(6))), "E_ENGINE_FAILED");
});
