import { test } from "node:test";
import assert from "node:assert/strict";
import { createBackend as onnxBackend } from "../../daemon/inference/onnx-backend.js";
import { createBackend as tfjsBackend } from "../../daemon/inference/tfjs-backend.js";
import type { Backend } from "../../daemon/inference/backend.js";
import { CLASSIFIER, classifyFixtures } from "./fixtures.js";

const fixtures = classifyFixtures();

/**
 * Two lines or two views on one engine send it frames at the same moment:
 * each answer must be its own frame's, exactly as if it had come alone.
 */
async function eachAnswerIsItsOwnFrames(backend: Backend): Promise<void> {
  try {
    const alone: number[][] = [];
    for (const f of fixtures) {
      const r = await backend.infer(f.frame);
      if (r.output.kind === "classify") alone.push(r.output.scores);
    }
    for (let round = 0; round < 3; round++) {
      const together = await Promise.all(fixtures.map((f) => backend.infer(f.frame)));
      together.forEach((r, i) => {
        assert.equal(r.output.kind, "classify");
        if (r.output.kind === "classify") assert.deepEqual(r.output.scores, alone[i], `${fixtures[i]!.name}, sent with ${fixtures.length - 1} others`);
        assert.ok(r.preprocessMs >= 0 && r.inferMs >= 0);
      });
    }
  } finally {
    await backend.close?.();
  }
}

test("onnx: frames sent at once are each judged on their own pixels (one input buffer, one run at a time)", async () => {
  await eachAnswerIsItsOwnFrames(await onnxBackend({ dir: CLASSIFIER, variant: "float32", intraOpThreads: 1, interOpThreads: 1, spinning: false, graphOptimization: "all", providers: ["cpu"] }));
});

test("tfjs: frames sent at once are each judged on their own pixels", async () => {
  await eachAnswerIsItsOwnFrames(await tfjsBackend({ dir: CLASSIFIER, variant: "tfjs", backends: ["cpu"] }));
});
