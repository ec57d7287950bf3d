import { test } from "node:test";
import assert from "node:assert/strict";
import { LineActuation } from "../../daemon/actuation/line-actuation.js";
import { SimulatedGpio } from "../../daemon/actuation/simulated-gpio.js";
import type { Alarm } from "../../daemon/util/alarm.js";
import type { Judgement, SettledPart } from "../../daemon/pipeline/part.js";
import { ConfigError } from "../../daemon/config/load.js";
import { nowMs, sleep } from "../../daemon/util/clock.js";
import { lineConfig } from "../fakes/line.js";
import { quietLog } from "../fakes/quiet-log.js";

const ENGINE = "engine: { type: simulated, latency_ms: 1, error_rate: 0 }\ncamera: { type: synthetic }\n";
const reject: Judgement = { verdict: "reject", findings: [{ class: "scratch", score: 0.9 }] };

async function actuation(yaml: string) {
  const gpio = new SimulatedGpio();
  const settled: SettledPart[] = [];
  const alarms: Alarm[] = [];
  const act = new LineActuation(lineConfig(ENGINE + yaml), gpio, () => "test", (p) => settled.push(p), quietLog());
  act.alarms.on((a) => alarms.push(a));
  await act.start();
  return { gpio, act, settled, alarms };
}

/** Keeps this thread, the event loop with it, busy: what a collection pause or a stuck handler does to the main thread. */
function block(ms: number): number {
  const until = nowMs() + ms;
  while (nowMs() < until) {
    // nothing on this thread runs meanwhile: no timer, no message, no callback
  }
  return nowMs();
}

const onEdges = (gpio: SimulatedGpio, line: string) => gpio.edges.filter((e) => e.line === line && e.active);

test("a decided reject fires at its ejector while the main thread is blocked", async () => {
  const { gpio, act, settled } = await actuation("line: { travel_ms: 100, decision_margin_ms: 20 }\nactuation: { pulse_ms: 20, window_ms: 500 }\n");
  const part = act.tracker.create({ tMs: nowMs() });
  act.tracker.judge(part, reject);
  const unblocked = block(600);
  await act.tracker.idle();
  await act.stop();
  const on = onEdges(gpio, "reject");
  assert.equal(on.length, 1);
  assert.ok(on[0]!.tMs >= part.ejectAtMs, "never before the part is at the ejector");
  assert.ok(on[0]!.tMs < unblocked, `the pulse went on ${(on[0]!.tMs - unblocked).toFixed(1)} ms after the main thread was free: it waited for it`);
  assert.equal(settled[0]!.outcome, "rejected");
  assert.equal(act.tracker.counters.escaped, 0);
});

test("an undecided part gets the fail-safe pulse at its ejector while the main thread is blocked, counted late", async () => {
  const { gpio, act, settled } = await actuation("line: { travel_ms: 100, decision_margin_ms: 20 }\nactuation: { pulse_ms: 20, window_ms: 500 }\n");
  const part = act.tracker.create({ tMs: nowMs() });
  const unblocked = block(600);
  await act.tracker.idle();
  await act.stop();
  const on = onEdges(gpio, "reject");
  assert.equal(on.length, 1);
  assert.ok(on[0]!.tMs >= part.ejectAtMs && on[0]!.tMs < unblocked);
  assert.equal(settled[0]!.outcome, "rejected");
  assert.equal(settled[0]!.judgement.failsafe, "late");
  assert.equal(act.tracker.counters.failsafeByReason.late, 1);
});

test("a safe request mid-pulse takes the output safe at once; the part is an escape with its reason", async () => {
  const { gpio, act, settled, alarms } = await actuation("line: { travel_ms: 50, decision_margin_ms: 10 }\nactuation: { pulse_ms: 2000, window_ms: 500 }\n");
  act.tracker.judge(act.tracker.create({ tMs: nowMs() }), reject);
  const deadline = nowMs() + 5000;
  while (!gpio.isActive("reject") && nowMs() < deadline) await sleep(5);
  assert.equal(gpio.isActive("reject"), true, "the pulse started");
  act.emergencySafe();
  assert.equal(gpio.isActive("reject"), false, "safe synchronously, before any callback ran");
  await act.tracker.idle();
  await act.stop();
  assert.equal(settled[0]!.outcome, "accepted");
  assert.match(settled[0]!.reason, /^escaped:/);
  assert.ok(alarms.some((a) => a.code === "escaped" && /cut short by a safe request/.test(a.message)), JSON.stringify(alarms));
  // And nothing fires after it: a test pulse is refused with its code.
  await assert.rejects(act.testPulse(), /E_TEST_PULSE|refused/);
});

/** Two rejects 60 ms apart at an ejector that needs a second to retract: the second cannot be hit in its window and escapes. */
async function escapeOne(act: LineActuation): Promise<void> {
  act.tracker.judge(act.tracker.create({ tMs: nowMs() }), reject);
  await sleep(60);
  act.tracker.judge(act.tracker.create({ tMs: nowMs() }), reject);
  await act.tracker.idle();
}

const RETRACTING = "line: { travel_ms: 80, decision_margin_ms: 10 }\nactuation:\n  pulse_ms: 5\n  min_gap_ms: 1000\n  window_ms: 10\n";

test("on_escape: line-stop latches the line-stop output on an escaped part until the reset is pressed", async () => {
  const { gpio, act, settled, alarms } = await actuation(`${RETRACTING}  line_stop: { name: line-stop }
  on_escape: line-stop
  line_stop_reset: { name: stop-reset }
`);
  try {
    assert.equal(gpio.isActive("line-stop"), false);
    await escapeOne(act);
    assert.deepEqual(
      settled.map((p) => p.reason.startsWith("escaped:")),
      [false, true],
    );
    assert.equal(gpio.isActive("line-stop"), true, "line stopped");
    await sleep(1100);
    await escapeOne(act);
    assert.equal(alarms.filter((a) => a.code === "escaped").length, 2);
    assert.equal(alarms.filter((a) => a.code === "line-stopped").length, 1, "one stop alarm for the latch, not one per part");
    gpio.drive("stop-reset", true);
    assert.equal(gpio.isActive("line-stop"), false, "released by the reset input");
    assert.equal(alarms.filter((a) => a.code === "line-released").length, 1);
    gpio.drive("stop-reset", false);
  } finally {
    await act.stop();
  }
});

test("on_escape: alarm (the default) raises the alarm and leaves the line running", async () => {
  const { gpio, act, alarms } = await actuation(`${RETRACTING}  line_stop: { name: line-stop }\n`);
  try {
    await escapeOne(act);
    assert.equal(alarms.filter((a) => a.code === "escaped").length, 1);
    assert.equal(gpio.isActive("line-stop"), false);
  } finally {
    await act.stop();
  }
});

test("on_escape: line-stop without a line_stop output, or a reset without it, is a config error with its path", () => {
  assert.throws(
    () => lineConfig(ENGINE + "actuation: { on_escape: line-stop }\n"),
    (err: unknown) => err instanceof ConfigError && err.problems.some((i) => i.path === "actuation.on_escape" && /line_stop/.test(i.message)),
  );
  assert.throws(
    () => lineConfig(ENGINE + "actuation: { line_stop_reset: { name: r } }\n"),
    (err: unknown) => err instanceof ConfigError && err.problems.some((i) => i.path === "actuation.line_stop_reset"),
  );
});

test("the reject core runs at SCHED_FIFO by default where the process may, on locked memory, and reports its wake-ups", async () => {
  const { act } = await actuation("line: { travel_ms: 50, decision_margin_ms: 10 }\nactuation: { pulse_ms: 5, window_ms: 500 }\n");
  for (let i = 0; i < 5; i++) {
    act.tracker.judge(act.tracker.create({ tMs: nowMs() }), reject);
    await sleep(20);
  }
  await act.tracker.idle();
  const s = act.scheduler.stats()!;
  await act.stop();
  if (process.getuid?.() === 0) assert.equal(s.priority, 10);
  else assert.equal(s.priority, 0);
  assert.equal(s.memoryLocked, true, s.memoryLockRefused);
  assert.equal(s.pulses, 5);
  assert.ok(s.lateMaxMs >= 0 && s.lateP50Ms <= s.lateP99Ms);
  assert.equal(s.majorFaults, 0);
});

test("the core wakes ahead of its deadlines by a lead it learns, within wake_lead_max_ms, and never fires a pulse early", async () => {
  for (const cap of [0, 1.5]) {
    const { gpio, act, settled } = await actuation(`line: { travel_ms: 40, decision_margin_ms: 10 }\nactuation: { pulse_ms: 5, window_ms: 500, wake_lead_max_ms: ${cap} }\n`);
    const parts: Array<ReturnType<typeof act.tracker.create>> = [];
    for (let i = 0; i < 8; i++) {
      const part = act.tracker.create({ tMs: nowMs() });
      act.tracker.judge(part, reject);
      parts.push(part);
      await sleep(15);
    }
    await act.tracker.idle();
    const s = act.scheduler.stats()!;
    await act.stop();
    // Every part pulsed or, when the kernel ran the core so late that the ejector was still busy
    // with the one before (a stalled virtual CPU under load), escaped with its alarm: none lost.
    const pulsed = settled.filter((p) => p.tPulseMs !== undefined);
    assert.equal(pulsed.length + act.tracker.counters.escaped, parts.length);
    assert.equal(onEdges(gpio, "reject").length, pulsed.length);
    for (const p of pulsed) assert.ok(p.tPulseMs! >= p.ejectAtMs, `part ${p.id}'s pulse went on ${(p.ejectAtMs - p.tPulseMs!).toFixed(3)} ms before its time`);
    if (cap === 0) {
      assert.equal(s.leadMs, 0);
      assert.equal(s.spinMs, 0);
    } else {
      assert.ok(s.leadMs > 0 && s.leadMs <= cap, `lead ${s.leadMs} ms outside (0, ${cap}]`);
      assert.ok(s.spinMs > 0, "it spun before its deadlines");
    }
  }
});

test("the main thread wakes the core only for a part due before the one it sleeps to, never for a later part or a decision", async () => {
  const { act, settled } = await actuation("line: { travel_ms: 1500, decision_margin_ms: 20 }\nactuation: { pulse_ms: 5, window_ms: 500 }\n");
  const first = act.tracker.create({ tMs: nowMs() });
  // Once the core has woken for it, it sleeps to its time: every later part is due after it.
  while (act.scheduler.stats()!.wakeups < 1) await sleep(1);
  const before = act.scheduler.stats()!.signals;
  // A call made after the first part's time may find the core asleep with nothing due and wake it: those are allowed.
  let afterFirst = 0;
  const parts = 20;
  for (let i = 0; i < parts; i++) {
    const part = act.tracker.create({ tMs: nowMs() });
    act.tracker.judge(part, reject);
    if (nowMs() >= first.ejectAtMs - 1) afterFirst += 2;
  }
  const signals = act.scheduler.stats()!.signals - before;
  act.tracker.judge(first, reject);
  await act.tracker.idle();
  await act.stop();
  assert.ok(signals <= afterFirst, `${signals} wake-ups for ${parts} parts and decisions due after the one the core sleeps to (${afterFirst} calls came after its time)`);
  // And nothing was lost for it: every part was acted on at its ejector (pulsed, or escaped with the ejector busy).
  assert.equal(settled.length, parts + 1);
  assert.ok(settled.every((p) => p.outcome === "rejected" || /^escaped:/.test(p.reason)), JSON.stringify(settled.map((p) => p.reason)));
  assert.equal(settled.find((p) => p.id === first.id)?.outcome, "rejected");
});

test("a part that passes costs the core no spin: only an output's time gets the wake lead", async () => {
  const { gpio, act, settled } = await actuation("line: { travel_ms: 1500, decision_margin_ms: 20 }\nactuation: { pulse_ms: 5, window_ms: 500, wake_lead_max_ms: 2 }\n");
  const pass: Judgement = { verdict: "pass", findings: [] };
  for (let i = 0; i < 10; i++) {
    act.tracker.judge(act.tracker.create({ tMs: nowMs() }), pass);
    await sleep(30);
  }
  await act.tracker.idle();
  const s = act.scheduler.stats()!;
  await act.stop();
  assert.equal(settled.length, 10);
  assert.ok(settled.every((p) => p.outcome === "accepted" && p.reason === "pass"), JSON.stringify(settled.map((p) => p.reason)));
  assert.equal(onEdges(gpio, "reject").length, 0);
  assert.equal(s.spinMs, 0, `the core spun ${s.spinMs} ms for parts that only pass`);
});

test("wake_lead_max_ms outside 0-20 ms is a config error with its path", () => {
  for (const v of ["-1", "21", ".nan"]) {
    assert.throws(() => lineConfig(ENGINE + `actuation: { wake_lead_max_ms: ${v} }\n`), (e: unknown) => e instanceof ConfigError && /actuation\.wake_lead_max_ms/.test(e.message), v);
  }
});
