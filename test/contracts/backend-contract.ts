import { test } from "node:test";
import assert from "node:assert/strict";
import type { Backend, BackendFrame } from "../../daemon/inference/backend.js";
import { checkOutput } from "../../daemon/inference/output-check.js";
import { rejectsCoded } from "./coded.js";

/** What every engine backend does, whatever computes. */
export function backendContract(name: string, make: () => Promise<Backend>, frames: () => BackendFrame[]): void {
  test(`Engine backend contract (${name}): says what it is, answers every frame within its labels, the same frame alike, a bad frame with a code, and closes twice`, async () => {
    const b = await make();
    try {
      const { info } = b;
      assert.ok(info.name.length > 0 && info.version.length > 0 && info.backend.length > 0, JSON.stringify(info));
      assert.ok(info.labels.length >= 2, "at least an ok and a defect label");
      assert.equal(new Set(info.labels).size, info.labels.length, "labels are unique");
      const fs = frames();
      assert.ok(fs.length > 0);
      const first: unknown[] = [];
      for (const f of fs) {
        const r = await b.infer(f);
        assert.doesNotThrow(() => checkOutput(r.output, info.labels), `frame ${f.seq}: ${JSON.stringify(r.output)}`);
        if (r.output.kind === "classify") {
          assert.equal(r.output.scores.length, info.labels.length);
          assert.ok(r.output.scores.every((s) => s >= 0 && s <= 1), JSON.stringify(r.output.scores));
        }
        assert.ok(Number.isFinite(r.preprocessMs) && r.preprocessMs >= 0 && Number.isFinite(r.inferMs) && r.inferMs >= 0);
        first.push(r.output);
      }
      for (let i = 0; i < fs.length; i++) assert.deepEqual((await b.infer(fs[i]!)).output, first[i], `frame ${fs[i]!.seq} again`);
      const f = fs[0]!;
      await rejectsCoded(async () => b.infer({ ...f, data: f.data.subarray(0, f.data.length - 3) }), ["E_FRAME"], "a frame shorter than its size");
    } finally {
      await b.close?.();
      await b.close?.();
    }
  });
}
