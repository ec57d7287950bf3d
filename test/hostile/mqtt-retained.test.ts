import { test } from "node:test";
import assert from "node:assert/strict";
import { App } from "../../daemon/app.js";
import type { SimulatedGpio } from "../../daemon/actuation/simulated-gpio.js";
import { topic } from "../../daemon/publish/topics.js";
import { sleep } from "../../daemon/util/clock.js";
import { BASE_YAML, faultyEngine, lineConfig } from "../fakes/line.js";
import { Mosquitto } from "../fakes/mosquitto.js";
import { quietLog } from "../fakes/quiet-log.js";
import { OPERATOR, attacker, mqttYaml, station, until, type Reply } from "./mqtt-station.js";

const RETAINED: Array<[string, Record<string, unknown>]> = [
  ["pause", {}],
  ["test-reject", {}],
  ["set-threshold", { threshold: 0.99 }],
  ["reload-config", {}],
];

test("retained commands are refused on every start and reconnect, and while subscribed; no command acts before READY", async () => {
  const broker = await Mosquitto.start({ persistence: true });
  const ctl = await attacker(broker.url, "ctl-retained");
  const replies: Reply[] = [];
  ctl.on("message", (t, p) => replies.push({ ...(JSON.parse(p.toString()) as Reply), topic: t, correlation: undefined }));
  await ctl.subscribeAsync("replies/ctl", { qos: 1 });
  const props = { responseTopic: "replies/ctl", userProperties: { from: OPERATOR } };
  for (const [name, body] of RETAINED) await ctl.publishAsync(topic(station, `cmd/${name}`), JSON.stringify(body), { qos: 1, retain: true, properties: props });

  // The model takes 1.5 s to load: commands arrive before READY.
  const app = new App(lineConfig(`${BASE_YAML}${mqttYaml(broker.url)}`), quietLog(), { engine: faultyEngine({ fault: "none", loadMs: 1500 }) });
  const gpio = app.gpio as SimulatedGpio;
  const codes = (from: number) => replies.slice(from).map((r) => `${r.command}:${r.error?.code ?? "ok"}`).sort();
  try {
    const started = app.start();
    await until("the retained commands refused", () => replies.length === RETAINED.length);
    assert.deepEqual(codes(0), RETAINED.map(([n]) => `${n}:E_CMD_RETAINED`).sort());
    assert.equal(app.state, "starting");
    for (const name of ["pause", "test-reject", "set-threshold"]) {
      await ctl.publishAsync(topic(station, `cmd/${name}`), JSON.stringify(name === "set-threshold" ? { threshold: 0.99 } : {}), { qos: 1, properties: props });
    }
    await until("the early commands refused", () => replies.length === RETAINED.length + 3);
    assert.deepEqual(codes(RETAINED.length), ["pause:E_CMD_NOT_READY", "set-threshold:E_CMD_NOT_READY", "test-reject:E_CMD_NOT_READY"]);
    await started;
    assert.equal(app.state, "running");
    assert.equal(gpio.edges.filter((e) => e.line === "reject" && e.active).length, 0, "no pulse before READY");
    assert.equal(app.pipeline.paused, false);
    assert.notEqual(app.pipeline.decideSettings.threshold, 0.99);

    // A reconnect delivers the retained commands again: refused again, though the station is READY now.
    await broker.stop();
    await broker.restart();
    // (Counted, not awaited as replies: the requester may not have resubscribed yet when they go out.)
    await until("the retained commands refused after the reconnect", () => app.commands.counts.refusedByCode.E_CMD_RETAINED === RETAINED.length * 2);
    await until("the requester back", () => ctl.connected);
    await sleep(300);
    const n = replies.length;

    // Published retained while the station is subscribed (MQTT 5 retain-as-published): refused too.
    await ctl.publishAsync(topic(station, "cmd/resume"), "{}", { qos: 1, retain: true, properties: props });
    await until("the live retained command refused", () => replies.length === n + 1);
    assert.equal(replies.at(-1)!.error?.code, "E_CMD_RETAINED");
    await sleep(100);
    assert.equal(app.pipeline.paused, false);
    assert.notEqual(app.pipeline.decideSettings.threshold, 0.99);
    assert.equal(app.commands.counts.accepted, 0);
    assert.equal(app.commands.counts.refusedByCode.E_CMD_RETAINED, RETAINED.length * 2 + 1);
  } finally {
    await app.stop("test done");
    for (const name of [...RETAINED.map(([n]) => n), "resume"]) await ctl.publishAsync(topic(station, `cmd/${name}`), "", { qos: 1, retain: true }).catch(() => undefined);
    await ctl.endAsync(true);
    await broker.close();
  }
});
