import { test } from "node:test";
import assert from "node:assert/strict";
import { createBackend as onnxBackend } from "../../daemon/inference/onnx-backend.js";
import { createBackend as tfjsBackend } from "../../daemon/inference/tfjs-backend.js";
import type { Backend } from "../../daemon/inference/backend.js";
import type { EngineOutput } from "../../daemon/inference/engine.js";
import { CLASSIFIER, classifyFixtures } from "./fixtures.js";

const fixtures = classifyFixtures();

/**
 * The engine worker takes every request that arrives without waiting for the
 * one before (a queue of engine_runtime.queue frames): each frame must still
 * be judged on its own pixels, as when it comes alone.
 */
async function togetherAsAlone(backend: Backend): Promise<void> {
  try {
    const alone: EngineOutput[] = [];
    for (const f of fixtures) alone.push((await backend.infer(f.frame)).output);
    const together = await Promise.all(fixtures.map((f) => backend.infer(f.frame)));
    together.forEach((r, i) => assert.deepEqual(r.output, alone[i], `${fixtures[i]!.name}, asked for with ${fixtures.length - 1} other frames`));
    // A failed frame does not hold up or change the ones behind it.
    const bad = { seq: 99, width: 7, height: 7, data: new Uint8Array(3) };
    const mixed = await Promise.allSettled([backend.infer(bad), backend.infer(fixtures[0]!.frame)]);
    assert.equal(mixed[0].status, "rejected");
    assert.deepEqual(mixed[1].status === "fulfilled" && mixed[1].value.output, alone[0]);
  } finally {
    await backend.close?.();
  }
}

test("onnxruntime: frames asked for together are each judged on their own pixels", async () => {
  await togetherAsAlone(await onnxBackend({ dir: CLASSIFIER, variant: "int8", intraOpThreads: 1, interOpThreads: 1, spinning: false, graphOptimization: "all", providers: ["cpu"] }));
});

test("TF.js: frames asked for together are each judged on their own pixels", async () => {
  await togetherAsAlone(await tfjsBackend({ dir: CLASSIFIER, variant: "tfjs", backends: ["wasm", "cpu"] }));
});
