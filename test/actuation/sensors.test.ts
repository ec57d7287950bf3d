import { test } from "node:test";
import assert from "node:assert/strict";
import { LineActuation } from "../../daemon/actuation/line-actuation.js";
import { SimulatedGpio } from "../../daemon/actuation/simulated-gpio.js";
import type { Alarm } from "../../daemon/util/alarm.js";
import { nowMs, sleep } from "../../daemon/util/clock.js";
import { lineConfig } from "../fakes/line.js";
import { quietLog } from "../fakes/quiet-log.js";

const YAML = `
engine: { type: simulated }
camera: { type: synthetic }
line: { travel_ms: 50, decision_margin_ms: 10 }
actuation:
  pulse_ms: 10
  # Wide: on a busy machine the test hears of the pulse late, and only then plays the sensor.
  confirm: { input: { name: reject-seen }, within_ms: 1000 }
  bin_full: { name: bin-full, active_low: true }
  line_stop: { name: line-stop }
`;

test("a reject without confirmation raises an alarm; a confirmed one does not", async () => {
  const gpio = new SimulatedGpio();
  const act = new LineActuation(lineConfig(YAML), gpio, () => "t", () => undefined, quietLog());
  const alarms: Alarm[] = [];
  act.alarms.on((a) => alarms.push(a));
  await act.start();
  const confirmed = act.tracker.create({ tMs: nowMs() });
  act.tracker.judge(confirmed, { verdict: "reject", findings: [{ class: "crack", score: 1 }] });
  await act.tracker.idle();
  gpio.drive("reject-seen", true);
  gpio.drive("reject-seen", false);
  const missing = act.tracker.create({ tMs: nowMs() });
  act.tracker.judge(missing, { verdict: "reject", findings: [{ class: "crack", score: 1 }] });
  await act.tracker.idle();
  await sleep(1200);
  await act.stop();
  const unconfirmed = alarms.filter((a) => a.code === "reject-unconfirmed");
  assert.equal(unconfirmed.length, 1);
  assert.equal(unconfirmed[0]!.part, missing.id);
  assert.equal(act.alarms.counts["reject-unconfirmed"], 1);
});

test("a full bin raises an alarm and energises the line-stop output until it is clear", async () => {
  const gpio = new SimulatedGpio();
  const act = new LineActuation(lineConfig(YAML), gpio, () => "t", () => undefined, quietLog());
  const alarms: Alarm[] = [];
  act.alarms.on((a) => alarms.push(a));
  await act.start();
  assert.equal(gpio.isActive("line-stop"), false);
  gpio.drive("bin-full", true);
  assert.equal(gpio.isActive("line-stop"), true);
  assert.deepEqual(alarms.map((a) => [a.code, a.station]), [["bin-full", "reject"]]);
  gpio.drive("bin-full", false);
  assert.equal(gpio.isActive("line-stop"), false);
  assert.deepEqual(alarms.map((a) => a.code), ["bin-full", "bin-cleared"]);
  // Active-low sensor: the electrical level recorded is the inverse of the logical state.
  assert.deepEqual(gpio.edges.filter((e) => e.line === "bin-full").map((e) => e.level), [0, 1]);
  await act.stop();
});
