import { test } from "node:test";
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import mqtt from "mqtt";
import { Mosquitto } from "../fakes/mosquitto.js";
import { HostApplication } from "./host-application.js";
import { GROUP, LINE, NODE, OPERATOR, stationConfig, startStation } from "./station.js";

/**
 * A station process against a real Mosquitto, watched by an independent host
 * application. Conformance statements (Sparkplug 3.0) checked on every
 * message by the host: tck-id-topics-{nbirth,dbirth,ndata,ddata}-mqtt (QoS 0,
 * not retained), -timestamp, tck-id-payloads-sequence-num-always-included,
 * tck-id-topics-nbirth-seq-num, tck-id-topics-nbirth-bdseq-included,
 * tck-id-topics-nbirth-rebirth-metric,
 * tck-id-operational-behavior-data-commands-rebirth-name-aliases,
 * tck-id-payloads-alias-birth-requirement, tck-id-payloads-alias-uniqueness,
 * tck-id-payloads-alias-data-cmd-requirement, tck-id-payloads-ndata-order,
 * tck-id-message-flow-device-birth-publish-nbirth-wait,
 * tck-id-payloads-sequence-num-incrementing, tck-id-topics-ndeath-seq,
 * tck-id-topics-ndeath-payload. The steps below add the ones named there.
 */
test("Sparkplug node: births before data, aliases as born, seq gap answered by a rebirth, DCMD through the allow-list, NDEATH as the Will on SIGKILL, bdSeq across restarts and a broker restart", async () => {
  const broker = await Mosquitto.start();
  const host = new HostApplication(broker.url, GROUP, NODE, { rebirthOnGap: true });
  await host.connect();
  // The JSON metrics of the same station: the DCMD refusals are counted there too.
  const json = await mqtt.connectAsync(broker.url, { clientId: "json-watcher" });
  let jsonMetrics: { commands: { accepted: number; refusedByCode: Record<string, number> } } | undefined;
  json.on("message", (_t, p) => (jsonMetrics = JSON.parse(p.toString()) as typeof jsonMetrics));
  await json.subscribeAsync(`edge-inspect/${GROUP}/${LINE}/${NODE}/metrics`, { qos: 0 });
  const { dir, file } = stationConfig(broker.url);
  let station = startStation(file);
  try {
    // tck-id-message-flow-edge-node-birth-publish-connect, tck-id-topics-nbirth-metric-reqs / -dbirth-metric-reqs.
    await host.until("NBIRTH and DBIRTH", () => host.count("DBIRTH") >= 1);
    const first = host.births[0]!.bdSeq;
    assert.equal(host.messages[0]!.verb, "NBIRTH", "the node's first message is its NBIRTH");
    for (const name of ["Parts/Triggered", "Parts/Rejected/crack", "Parts/Fail-safe/late", "Quality/Yield", "Latency/p99 ms", "Model/Version", "Thresholds/Default", "Control/Paused", "Camera/Connected", "Alarms/Active", "Defects/Event"]) {
      assert.ok(host.tags.get(LINE)?.has(name), `DBIRTH of ${LINE} has ${name}`);
    }
    assert.ok(host.tags.get("")?.has("Store/Outbox"), "NBIRTH has the store's metrics");
    // tck-id-topics-ddata-payload: data by alias, on change.
    await host.until("DDATA with live defect events and counters", () => host.count("DDATA") >= 10 && host.events.filter((e) => !e.historical).length >= 3);
    const triggered = host.tag(LINE, "Parts/Triggered") as number;
    assert.ok(triggered > 0, "counters reach the host");
    for (const e of host.events) {
      assert.match(e.id, new RegExp(`^${NODE}:[^:]+:${e.part}$`));
      assert.ok(e.classes !== "" || e.reason.startsWith("failsafe:"), `${e.id}: a reject names its classes or its fail-safe reason`);
      // Parts triggered before the node's first birth (on the belt while it connected) are history; the rest is live.
      if (e.timestamp >= host.births[0]!.atMs) assert.equal(e.historical, false, `${e.id} is live, not historical`);
    }

    // A gap (messages lost on the way): the host asks for a rebirth and the node answers with
    // a complete birth sequence, seq from 0, the same bdSeq (tck-id-operational-behavior-data-commands-rebirth-action-1..3).
    const birthsBefore = host.births.length;
    await host.deaf(1500);
    await host.until("a rebirth after the gap", () => host.births.length > birthsBefore && host.count("DBIRTH") > birthsBefore);
    assert.ok(host.gaps >= 1, "the host saw the gap");
    assert.ok(host.rebirthsRequested >= 1);
    assert.equal(host.births.at(-1)!.bdSeq, first, "a rebirth keeps the session's bdSeq");

    // DCMD from an identity not in the allow-list: refused, counted, nothing changes.
    const thresholdBefore = host.tag(LINE, "Thresholds/Default");
    const refusedBefore = host.tag("", "Commands/Refused") as number;
    await host.deviceCommand(LINE, [
      { name: "Thresholds/Default", datatype: 10, doubleValue: 0.91 },
      { name: "Command/From", datatype: 12, stringValue: "intruder" },
    ]);
    await host.until("the refusal counted", () => (host.tag("", "Commands/Refused") as number) === refusedBefore + 1);
    await host.until("the JSON metrics count it by code", () => (jsonMetrics?.commands.refusedByCode.E_CMD_UNAUTHORISED ?? 0) >= 1);
    assert.equal(host.tag(LINE, "Thresholds/Default"), thresholdBefore, "a refused DCMD changes nothing");
    // The same write from the allowed identity, by alias as a host writes after the birth (tck-id-operational-behavior-data-commands-dcmd-*).
    await host.deviceCommand(LINE, [
      { name: "Thresholds/Default", datatype: 10, doubleValue: 0.91 },
      { name: "Command/From", datatype: 12, stringValue: OPERATOR },
    ]);
    await host.until("the new threshold in DDATA", () => host.tag(LINE, "Thresholds/Default") === 0.91);
    assert.equal(host.tag(LINE, "Control/Paused"), false);
    await host.deviceCommand(LINE, [{ name: "Control/Paused", datatype: 11, booleanValue: true }, { name: "Command/From", datatype: 12, stringValue: OPERATOR }]);
    await host.until("paused in DDATA", () => host.tag(LINE, "Control/Paused") === true);
    await host.until("the JSON metrics count the accepted ones", () => (jsonMetrics?.commands.accepted ?? 0) >= 2);

    // SIGKILL: the broker publishes the Will, the NDEATH of this session
    // (tck-id-payloads-ndeath-will-message, tck-id-payloads-ndeath-bdseq, tck-id-topics-nbirth-bdseq-matching).
    station.child.kill("SIGKILL");
    await station.done;
    await host.until("the Will NDEATH", () => host.ndeaths.length >= 1);
    assert.deepEqual(host.ndeaths.at(-1), { bdSeq: first, matchesBirth: true });

    // Restarted on the same data dir: the next CONNECT takes the next bdSeq (tck-id-topics-nbirth-bdseq-increment).
    const birthsBeforeRestart = host.births.length;
    station = startStation(file);
    await host.until("the NBIRTH after the restart", () => host.births.length > birthsBeforeRestart && host.count("DBIRTH") > birthsBeforeRestart);
    const second = host.births.at(-1)!.bdSeq;
    assert.equal(second, (first + 1) % 256, "bdSeq kept across the restart");

    // Broker restart: both sides reconnect; a new session, born again before any data, with a later bdSeq.
    const birthsBeforeBroker = host.births.length;
    await broker.kill();
    await broker.restart();
    await host.connect();
    await host.until("the NBIRTH after the broker restart", () => host.births.length > birthsBeforeBroker);
    const third = host.births.at(-1)!.bdSeq;
    assert.notEqual(third, second, "a new MQTT session has a new bdSeq");
    await host.until("data after the broker restart", () => host.messages.at(-1)!.verb === "DDATA");

    // Clean stop: DDEATH, then the NDEATH of the current session.
    station.child.kill("SIGTERM");
    const ran = await station.done;
    assert.equal(ran.code, 0, ran.stderr);
    await host.until("the NDEATH at the clean stop", () => host.ndeaths.at(-1)?.bdSeq === third);
    assert.ok(host.count("DDEATH") >= 1, "DDEATH before NDEATH");
    assert.deepEqual(host.violations, []);
  } finally {
    station.child.kill("SIGKILL");
    await host.disconnect();
    await json.endAsync(true);
    await broker.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
