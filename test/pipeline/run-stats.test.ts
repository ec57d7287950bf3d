import { test } from "node:test";
import assert from "node:assert/strict";
import { RunStats } from "../../daemon/pipeline/run-stats.js";
import { Counters } from "../../daemon/pipeline/counters.js";
import type { SettledPart } from "../../daemon/pipeline/part.js";

function part(id: number, total: number, pulse?: { ejectAtMs: number; tPulseMs: number }): SettledPart {
  const rejected = pulse !== undefined;
  return {
    id,
    line: "line1",
    tTriggerMs: 0,
    decideByMs: 380,
    ejectAtMs: pulse?.ejectAtMs ?? 400,
    stages: { total },
    judgement: rejected ? { verdict: "reject", findings: [{ class: "crack", score: 0.9 }] } : { verdict: "pass", findings: [] },
    outcome: rejected ? "rejected" : "accepted",
    reason: rejected ? "crack" : "pass",
    tSettledMs: 400,
    ...(pulse ? { tPulseMs: pulse.tPulseMs } : {}),
    modelVersion: "1",
  };
}

test("pulse error is |pulse start - ejection time| over pulsed rejects only", () => {
  const stats = new RunStats();
  stats.add(part(1, 5, { ejectAtMs: 400, tPulseMs: 400.5 }));
  stats.add(part(2, 5, { ejectAtMs: 500, tPulseMs: 498 }));
  stats.add(part(3, 5));
  const s = stats.summary(new Counters(), 0, true);
  stats.close();
  assert.equal(s.pulse_error_ms.count, 2);
  assert.ok(Math.abs(s.pulse_error_ms.max - 2) < 0.01, `max ${s.pulse_error_ms.max}`);
  assert.ok(Math.abs(s.pulse_error_ms.p50 - 0.5) < 0.01, `p50 ${s.pulse_error_ms.p50}`);
});

test("the summary carries the process's CPU share and peak RSS", () => {
  const stats = new RunStats();
  const s = stats.summary(new Counters(), 0, true);
  stats.close();
  assert.ok(Number.isInteger(s.cpu_percent) && s.cpu_percent >= 0);
  assert.ok(s.peak_rss_mb >= process.memoryUsage.rss() / 1048576 - 1, `peak ${s.peak_rss_mb} MB below the current RSS`);
});

test("each progress window holds only the parts settled since the previous one", () => {
  const stats = new RunStats();
  for (let i = 0; i < 10; i++) stats.add(part(i, 100));
  const first = stats.takeWindow();
  stats.add(part(10, 3));
  const second = stats.takeWindow();
  const empty = stats.takeWindow();
  stats.close();
  assert.equal(first.end_to_end_ms.count, 10);
  assert.ok(Math.abs(first.end_to_end_ms.p99 - 100) < 0.5);
  assert.equal(second.end_to_end_ms.count, 1);
  assert.ok(Math.abs(second.end_to_end_ms.max - 3) < 0.01);
  assert.equal(empty.end_to_end_ms.count, 0);
  assert.ok(first.rss_mb > 0 && first.cpu_percent >= 0);
});
