import { test } from "node:test";
import assert from "node:assert/strict";
import { App } from "../../daemon/app.js";
import { BASE_YAML, faultyEngine, lineConfig, runParts } from "../fakes/line.js";
import { quietLog } from "../fakes/quiet-log.js";

const FAULTS = { throw: "throws", garbage: "returns garbage", hang: "hangs", crash: "crashes its worker" } as const;
for (const fault of Object.keys(FAULTS) as (keyof typeof FAULTS)[]) {
  test(`engine that ${FAULTS[fault]}: affected parts fail safe with a reason, the line keeps running`, async () => {
    const app = new App(lineConfig(BASE_YAML), quietLog(), { engine: faultyEngine({ fault, every: 5 }) });
    const { summary, settled } = await runParts(app, 40);
    assert.equal(summary.triggered, 40);
    assert.equal(summary.in_flight, 0);
    assert.equal(summary.triggered, summary.accepted + summary.rejected);
    assert.equal(summary.invariant_ok, true);
    const failed = settled.filter((p) => p.judgement.verdict === "unknown");
    assert.ok(failed.length >= 1, "some parts hit the fault");
    // Every fail-safe part was rejected (default policy) and says why.
    for (const p of failed) {
      assert.equal(p.outcome, "rejected");
      assert.match(p.reason, /^failsafe:(error|late|overload)$/);
      assert.ok(p.judgement.detail && p.judgement.detail.length > 0);
    }
    const expected = fault === "hang" ? ["error", "late"] : ["error"];
    assert.ok(
      failed.some((p) => expected.includes(p.judgement.failsafe!)),
      `fail-safe reasons ${JSON.stringify(summary.failsafe_by_reason)}`,
    );
    // Parts on frames the fault did not touch still got model verdicts.
    assert.ok(settled.some((p) => p.judgement.verdict === "pass"), "the line kept judging");
    assert.equal(summary.failsafe, failed.length);
  });
}

test("engine slower than the deadline: parts fail safe as late, late verdicts are counted", async () => {
  const app = new App(lineConfig(BASE_YAML), quietLog(), {
    engine: faultyEngine({ fault: "slow", every: 4, slowMs: 400 }, { hangTimeoutMs: 5000, queue: 8 }),
  });
  const { summary, settled } = await runParts(app, 24);
  assert.equal(summary.in_flight, 0);
  assert.ok((summary.failsafe_by_reason.late ?? 0) >= 1, JSON.stringify(summary.failsafe_by_reason));
  assert.ok(summary.late_verdicts >= 1);
  for (const p of settled.filter((s) => s.judgement.failsafe === "late")) assert.equal(p.outcome, "rejected");
});

test("fail-safe action 'accept' lets unjudged parts pass and still counts them", async () => {
  const cfg = lineConfig(BASE_YAML + "\n" + "decide: { threshold: 0.5 }\n");
  cfg.line.failsafe.action = "accept";
  const app = new App(cfg, quietLog(), { engine: faultyEngine({ fault: "throw", every: 3 }) });
  const { summary, settled } = await runParts(app, 30);
  const failed = settled.filter((p) => p.judgement.verdict === "unknown");
  assert.ok(failed.length > 0);
  for (const p of failed) assert.equal(p.outcome, "accepted");
  assert.equal(summary.failsafe, failed.length);
  assert.equal(summary.triggered, summary.accepted + summary.rejected);
});

test("a model that fails to load refuses to start with a coded error", async () => {
  const app = new App(lineConfig(BASE_YAML), quietLog(), { engine: faultyEngine({ fault: "none", failLoad: true }) });
  await assert.rejects(app.start(), (err: Error & { code?: string }) => {
    assert.match(err.message, /start failed at engine: model file is corrupt/);
    return true;
  });
  await app.stop("test");
});
