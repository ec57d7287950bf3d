import { test } from "node:test";
import assert from "node:assert/strict";
import { LineActuation } from "../../daemon/actuation/line-actuation.js";
import { SimulatedGpio, type Edge } from "../../daemon/actuation/simulated-gpio.js";
import type { Judgement, Part, SettledPart } from "../../daemon/pipeline/part.js";
import { nowMs, sleep } from "../../daemon/util/clock.js";
import { lineConfig } from "../fakes/line.js";
import { quietLog } from "../fakes/quiet-log.js";

// Generous: a loaded 2-core CI machine. Precision is measured in bench/actuation.ts.
const TOL = 15;

const ENGINE = "engine: { type: simulated, latency_ms: 1, error_rate: 0 }\ncamera: { type: synthetic }\n";
const reject = (cls: string): Judgement => ({ verdict: "reject", findings: [{ class: cls, score: 0.9 }] });
const pass: Judgement = { verdict: "pass", findings: [{ class: "ok", score: 0.9 }] };

async function actuation(yaml: string) {
  const gpio = new SimulatedGpio();
  const settled: SettledPart[] = [];
  const act = new LineActuation(lineConfig(ENGINE + yaml), gpio, () => "test", (p) => settled.push(p), quietLog());
  await act.start();
  return { gpio, act, settled };
}

function pulses(edges: Edge[], line: string) {
  const out: Array<{ on: number; off: number }> = [];
  for (const e of edges.filter((x) => x.line === line)) {
    if (e.active) out.push({ on: e.tMs, off: NaN });
    else if (out.length > 0 && Number.isNaN(out[out.length - 1]!.off)) out[out.length - 1]!.off = e.tMs;
  }
  return out;
}

test("time tracking: each reject pulse starts at trigger + travel and lasts its width; bins are chosen by class", async () => {
  const { gpio, act, settled } = await actuation(`
line: { travel_ms: 120, decision_margin_ms: 20 }
actuation:
  pulse_ms: 20
  min_gap_ms: 5
  bins: [{ output: { name: bin-crack }, classes: [crack], travel_ms: 200, pulse_ms: 30 }]
`);
  const verdicts = [reject("scratch"), pass, reject("crack"), reject("scratch"), pass, reject("crack")];
  const parts: Part[] = [];
  for (const v of verdicts) {
    const p = act.tracker.create({ tMs: nowMs() });
    act.tracker.judge(p, v);
    parts.push(p);
    await sleep(40);
  }
  await act.tracker.idle();
  await act.stop();
  const main = pulses(gpio.edges, "reject");
  const bin = pulses(gpio.edges, "bin-crack");
  assert.equal(main.length, 2);
  assert.equal(bin.length, 2);
  const expect = (p: { on: number; off: number }, at: number, width: number) => {
    assert.ok(Math.abs(p.on - at) <= TOL, `pulse at ${(p.on - at).toFixed(2)} ms from its time`);
    assert.ok(p.off - p.on >= width - 0.5 && p.off - p.on <= width + TOL, `width ${(p.off - p.on).toFixed(2)} ms`);
  };
  expect(main[0]!, parts[0]!.tTriggerMs + 120, 20);
  expect(main[1]!, parts[3]!.tTriggerMs + 120, 20);
  expect(bin[0]!, parts[2]!.tTriggerMs + 200, 30);
  expect(bin[1]!, parts[5]!.tTriggerMs + 200, 30);
  const c = act.tracker.counters;
  assert.deepEqual([c.triggered, c.accepted, c.rejected, c.escaped], [6, 2, 4, 0]);
  // The recorded pulse time is the worker's own reading right after the edge.
  assert.ok(Math.abs(settled.find((p) => p.id === parts[2]!.id)!.tPulseMs! - bin[0]!.on) < TOL);
});

test("encoder tracking: pulses fire when the belt has moved the travel, at whatever speed it moves", async () => {
  const { gpio, act } = await actuation(`
line: { travel_ms: 200 }
actuation:
  pulse_ms: 10
  tracking: { type: encoder, input: { name: encoder }, counts_per_mm: 1, travel_mm: 40, decision_margin_mm: 10, window_mm: 3 }
`);
  const crossing = new Map<number, number>();
  let count = 0;
  const step = () => {
    count++;
    crossing.set(count, nowMs());
    gpio.drive("encoder", true);
    gpio.drive("encoder", false);
  };
  const parts: Part[] = [];
  // Three parts, each followed by a different belt speed: 1, 4 and 2 ms per count.
  for (const msPerCount of [1, 4, 2]) {
    const p = act.tracker.create({ tMs: nowMs() });
    parts.push(p);
    act.tracker.judge(p, reject("scratch"));
    for (let i = 0; i < 60; i++) {
      const t0 = nowMs();
      step();
      while (nowMs() - t0 < msPerCount) await new Promise((r) => setImmediate(r));
    }
  }
  await act.tracker.idle();
  await act.stop();
  const on = pulses(gpio.edges, "reject");
  assert.equal(on.length, 3);
  parts.forEach((p, i) => {
    const target = crossing.get(p.encoder! + 40)!;
    assert.ok(on[i]!.on >= target - 0.01, `pulse ${i} before its count was reached`);
    assert.ok(on[i]!.on - target <= TOL, `pulse ${i} ${(on[i]!.on - target).toFixed(2)} ms after its count`);
  });
  assert.equal(act.tracker.counters.rejected, 3);
});

test("late verdicts: fail-safe reject while the window is open; with fail-safe accept an unjudged part escapes, alarms and stays on the books", async () => {
  const { gpio, act, settled } = await actuation(`line: { travel_ms: 80, decision_margin_ms: 20 }\nactuation: { pulse_ms: 10 }\n`);
  const late = act.tracker.create({ tMs: nowMs() });
  await sleep(70); // past its decision deadline, before its ejector
  act.tracker.judge(late, pass);
  await act.tracker.idle();
  await act.stop();
  const s = settled.find((p) => p.id === late.id)!;
  assert.equal(s.outcome, "rejected");
  assert.equal(s.reason, "failsafe:late");
  assert.equal(pulses(gpio.edges, "reject").length, 1);

  const accepting = await actuation(`line: { travel_ms: 60, decision_margin_ms: 20, failsafe: { action: accept } }\n`);
  const alarms: string[] = [];
  accepting.act.alarms.on((a) => alarms.push(a.code));
  // The main thread never decides: the scheduler alone sees the part pass its ejector.
  (accepting.act.tracker as unknown as { commit: () => void }).commit = () => undefined;
  const unjudged = accepting.act.tracker.create({ tMs: nowMs() });
  await accepting.act.tracker.idle();
  await accepting.act.stop();
  const c = accepting.act.tracker.counters;
  assert.equal(c.escaped, 1);
  assert.equal(c.triggered, c.accepted + c.rejected + accepting.act.tracker.inFlight());
  assert.deepEqual(alarms, ["escaped"]);
  assert.match(accepting.settled.find((p) => p.id === unjudged.id)!.reason, /^escaped:/);
});

test("a part the ejector cannot reach in its window (still retracting) escapes with an alarm", async () => {
  const { act } = await actuation(`line: { travel_ms: 100, decision_margin_ms: 20 }\nactuation: { pulse_ms: 20, min_gap_ms: 200, window_ms: 5 }\n`);
  const alarms: string[] = [];
  act.alarms.on((a) => alarms.push(a.message));
  const a = act.tracker.create({ tMs: nowMs() });
  await sleep(40);
  const b = act.tracker.create({ tMs: nowMs() });
  act.tracker.judge(a, reject("scratch"));
  act.tracker.judge(b, reject("scratch"));
  await act.tracker.idle();
  await act.stop();
  const c = act.tracker.counters;
  assert.deepEqual([c.rejected, c.accepted, c.escaped], [1, 1, 1]);
  assert.equal(alarms.length, 1);
  assert.match(alarms[0]!, /part 2 escaped: the ejector was busy/);
});
