import { test } from "node:test";
import assert from "node:assert/strict";
import mqtt, { type MqttClient } from "mqtt";
import { App } from "../../daemon/app.js";
import type { SimulatedGpio } from "../../daemon/actuation/simulated-gpio.js";
import { topic } from "../../daemon/publish/topics.js";
import { sleep } from "../../daemon/util/clock.js";
import { BASE_YAML, lineConfig } from "../fakes/line.js";
import { quietLog } from "../fakes/quiet-log.js";
import { Mosquitto } from "../fakes/mosquitto.js";

const station = { site: "plant", line: "l1", device: "cam1" };

function stationYaml(url: string): string {
  return `${BASE_YAML}
station: { site: plant, line: l1, device: cam1 }
publish:
  type: mqtt
  url: ${url}
  reconnect_ms: 100
  metrics_interval_s: 1
  commands: { allow: [operator-1], max_payload_bytes: 1024, reply_prefixes: [replies/], rates: { test-reject: { per_s: 100, burst: 10 } } }
`;
}

/** An MQTT 5 requester: replies come to its own topic, matched by correlation data. */
function requester(client: MqttClient) {
  let n = 0;
  const waiting = new Map<string, (body: Record<string, unknown>) => void>();
  client.on("message", (t, payload, packet) => {
    const key = packet.properties?.correlationData?.toString();
    if (t === "replies/ctl" && key) waiting.get(key)?.(JSON.parse(payload.toString()));
  });
  return (name: string, payload: string | Buffer, userProperties?: Record<string, string>) => {
    const key = `req-${++n}`;
    const reply = new Promise<Record<string, unknown>>((resolve) => waiting.set(key, resolve));
    client.publish(topic(station, `cmd/${name}`), payload, {
      qos: 1,
      properties: { responseTopic: "replies/ctl", correlationData: Buffer.from(key), ...(userProperties && { userProperties }) },
    });
    return reply;
  };
}

test("commands over a real Mosquitto: bad ones get coded error replies and change nothing; allowed ones act", async () => {
  const broker = await Mosquitto.start();
  const app = new App(lineConfig(stationYaml(broker.url)), quietLog());
  const ctl = await mqtt.connectAsync(broker.url, { clientId: "ctl", protocolVersion: 5 });
  const seen = new Map<string, string[]>();
  ctl.on("message", (t, payload) => seen.set(t, [...(seen.get(t) ?? []), payload.toString()]));
  await ctl.subscribeAsync(["replies/ctl", topic(station, "#")], { qos: 1 });
  const request = requester(ctl);
  try {
    await app.start();
    while (!app.publisher.connected()) await sleep(20);
    await sleep(200);
    const before = structuredClone(app.pipeline.decideSettings);
    const refused: Array<[string, string | Buffer, string, Record<string, string>?]> = [
      ["self-destruct", "{}", "E_CMD_UNKNOWN"],
      ["pause", "{not json", "E_CMD_MALFORMED"],
      ["set-threshold", JSON.stringify({ from: "operator-1", threshold: 0.9, pad: "x".repeat(2000) }), "E_CMD_TOO_LARGE"],
      ["set-threshold", JSON.stringify({ from: "operator-1", threshold: 7 }), "E_CMD_INVALID"],
      ["set-threshold", JSON.stringify({ from: "operator-1", class: "ok", threshold: 0.9 }), "E_CMD_INVALID"],
      // No field can reach fail-safe rejection: unknown fields are refused, not ignored.
      ["set-threshold", JSON.stringify({ from: "operator-1", threshold: 0.9, failsafe: "accept" }), "E_CMD_INVALID"],
      ["pause", JSON.stringify({ from: "mallory" }), "E_CMD_UNAUTHORISED"],
      ["pause", "{}", "E_CMD_UNAUTHORISED"],
      ["resume", "{}", "E_CMD_UNAUTHORISED", { from: "mallory" }],
    ];
    for (const [name, payload, code, props] of refused) {
      const reply = await request(name, payload, props);
      assert.equal(reply.ok, false, `${name} ${String(payload).slice(0, 40)}`);
      assert.equal((reply.error as { code: string }).code, code, `${name}: ${JSON.stringify(reply.error)}`);
    }
    assert.equal(app.pipeline.paused, false);
    assert.deepEqual(app.pipeline.decideSettings, before);
    assert.equal(app.commands.counts.refused, refused.length);
    assert.equal(app.commands.counts.accepted, 0);
    assert.equal(app.commands.counts.refusedByCode.E_CMD_UNAUTHORISED, 3);

    const paused = await request("pause", "{}", { from: "operator-1" });
    assert.deepEqual(paused.result, { paused: true });
    assert.equal(app.pipeline.paused, true);
    const set = await request("set-threshold", JSON.stringify({ from: "operator-1", class: "crack", threshold: 0.8, request_id: "r7" }));
    assert.equal(set.ok, true);
    assert.equal(set.request_id, "r7");
    assert.equal(app.pipeline.decideSettings.thresholds.crack, 0.8);
    const swap = await request("swap-model", JSON.stringify({ from: "operator-1", package: "/models/v2" }));
    assert.equal((swap.error as { code: string }).code, "E_CMD_UNAVAILABLE");
    await request("resume", JSON.stringify({ from: "operator-1" }));
    assert.equal(app.pipeline.paused, false);

    // An MQTT 3.1.1 client has no response topic: the reply goes to cmd/<name>/reply.
    const old = await mqtt.connectAsync(broker.url, { clientId: "ctl-311", protocolVersion: 4 });
    await old.subscribeAsync(topic(station, "cmd/pause/reply"), { qos: 1 });
    const got = new Promise<Record<string, unknown>>((r) => old.once("message", (_t, p) => r(JSON.parse(p.toString()))));
    await old.publishAsync(topic(station, "cmd/pause"), JSON.stringify({ from: "operator-1" }), { qos: 1 });
    assert.equal((await got).ok, true);
    await old.endAsync();

    // Metrics go out every second: wait for one sent after the refusals were counted (a loaded machine may take longer).
    const lastMetrics = () => JSON.parse(seen.get(topic(station, "metrics"))?.at(-1) ?? "null") as { triggered: number; commands: { refused: number } } | null;
    while ((lastMetrics()?.commands.refused ?? 0) < refused.length || !seen.has(topic(station, "defects"))) await sleep(50);
    assert.ok(lastMetrics()!.triggered > 0);
    const defect = JSON.parse(seen.get(topic(station, "defects"))![0]!);
    assert.match(defect.id, /^cam1:/);
    assert.ok(Array.isArray(defect.classes) && defect.time);
    assert.equal(JSON.parse(seen.get(topic(station, "status"))![0]!).state, "online");
  } finally {
    await app.stop("test done");
  }
  // A clean stop leaves `offline` retained for late subscribers.
  const late = await mqtt.connectAsync(broker.url, { clientId: "late" });
  const status = new Promise<string>((r) => late.once("message", (_t, p) => r(JSON.parse(p.toString()).state)));
  await late.subscribeAsync(topic(station, "status"));
  assert.equal(await status, "offline");
  await late.endAsync();
  await ctl.endAsync();
  await broker.close();
});

test("test-reject over a real Mosquitto: one pulse of the configured width per command, min gap kept, refused once outputs are held safe", async () => {
  const broker = await Mosquitto.start();
  const config = lineConfig(stationYaml(broker.url));
  config.actuation.pulse_ms = 30;
  config.actuation.min_gap_ms = 100;
  const app = new App(config, quietLog());
  const gpio = app.gpio as SimulatedGpio;
  const ctl = await mqtt.connectAsync(broker.url, { clientId: "ctl-pulse", protocolVersion: 5 });
  await ctl.subscribeAsync("replies/ctl", { qos: 1 });
  const request = requester(ctl);
  const as = JSON.stringify({ from: "operator-1" });
  try {
    await app.start();
    while (!app.publisher.connected()) await sleep(20);
    // Paused and drained, the line makes no pulses of its own: every edge now is a test pulse.
    await request("pause", as);
    await app.tracker.idle();
    const before = gpio.edges.length;
    // One after the other: test-reject runs one at a time (a second one meanwhile is refused, not queued).
    const replies = [await request("test-reject", as), await request("test-reject", as)];
    for (const r of replies) {
      assert.equal(r.ok, true, JSON.stringify(r));
      assert.ok(!Number.isNaN(Date.parse((r.result as { pulsed_at: string }).pulsed_at)));
    }
    const edges = gpio.edges.slice(before).filter((e) => e.line === "reject");
    assert.deepEqual(edges.map((e) => e.active), [true, false, true, false]);
    const [on1, off1, on2, off2] = edges.map((e) => e.tMs) as [number, number, number, number];
    // Never shorter than configured (the width never comes from the network); longer only by how
    // late the kernel ran the reject core, which the core measures itself (a stalled virtual CPU
    // here: 73 ms once at load 11), plus a slack for the wake-ups it does not time (the spin).
    const t = app.rejectTiming();
    const lateMs = Math.max(t?.wakeMaxMs ?? 0, t?.lateMaxMs ?? 0);
    for (const w of [off1 - on1, off2 - on2]) assert.ok(w >= 29.5 && w <= 30 + lateMs + 20, `width ${w.toFixed(1)} ms, the core ran up to ${lateMs.toFixed(1)} ms late`);
    assert.ok(on2 - off1 >= 99.5, `gap ${(on2 - off1).toFixed(1)} ms`);
    assert.equal(app.commands.counts.accepted, 3);

    // Parts are still judged and rejected (fail-safe untouched) after test pulses.
    await request("resume", as);
    const rejected = app.tracker.counters.rejected;
    while (app.tracker.counters.rejected === rejected) await sleep(20);

    // Held at the safe level (the signal and crash path), the output takes no test pulse.
    app.emergencySafe();
    const held = await request("test-reject", as);
    assert.equal((held.error as { code: string }).code, "E_CMD_UNAVAILABLE");
    assert.match((held.error as { message: string }).message, /held at their safe level/);
    assert.equal(gpio.isActive("reject"), false);
  } finally {
    await app.stop("test done");
    await ctl.endAsync();
    await broker.close();
  }
});
