import { test } from "node:test";
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import mqtt from "mqtt";
import { Mosquitto } from "../fakes/mosquitto.js";
import { HostApplication } from "./host-application.js";
import { GROUP, NODE, stationConfig, startStation } from "./station.js";

const HOST = "scada";

/**
 * The station waits for its primary host and stops publishing while it is
 * away; defect events produced meanwhile are held in the outbox and sent on
 * its return, historical. Statements: tck-id-message-flow-edge-node-birth-publish-phid-wait
 * (-id, -online, -timestamp), tck-id-operational-behavior-edge-node-birth-sequence-wait,
 * tck-id-operational-behavior-edge-node-termination-host-offline,
 * tck-id-payloads-ndeath-bdseq (the NDEATH before going quiet), and the
 * is_historical flag of 6.4.6 (metric is_historical).
 */
test("primary host STATE: nothing before it is online, quiet while it is away, every defect event delivered after its return (held ones historical), counted against the records", async (t) => {
  const broker = await Mosquitto.start();
  // Another application on the broker, not the primary host: it sees what the node publishes while the host is away.
  const observer = new HostApplication(broker.url, GROUP, NODE);
  await observer.connect();
  const host = new HostApplication(broker.url, GROUP, NODE, { primaryHostId: HOST });
  const json = await mqtt.connectAsync(broker.url, { clientId: "json-historian" });
  const { dir, file } = stationConfig(broker.url, `, primary_host_id: ${HOST}`);
  const station = startStation(file);
  try {
    // No host yet: the line runs (its JSON defects show it), and the node says nothing.
    const early = new Set<string>();
    json.on("message", (_t, p) => early.add((JSON.parse(p.toString()) as { id: string }).id));
    await json.subscribeAsync(`edge-inspect/${GROUP}/l1/${NODE}/defects`, { qos: 1 });
    await observer.until("rejects on the line before any host", () => early.size >= 3);
    const heldIds = [...early];
    assert.equal(observer.messages.length, 0, "nothing is published before the primary host is online");

    await host.connect();
    await host.until("the births once the host is online", () => host.count("DBIRTH") >= 1);
    await host.until("live defect events", () => host.events.filter((e) => !e.historical).length >= 3);
    // Events from before the host first came online were held too: the older ones are historical.
    const beforeOutage = host.events.length;
    for (const id of heldIds) assert.equal(host.events.find((e) => e.id === id)?.historical, true, `${id}, from before the host's first STATE online, was held and comes historical`);

    // The host vanishes: the broker publishes its Will (STATE offline). The node ends its session.
    const deathsBefore = observer.ndeaths.length;
    await host.crash();
    await observer.until("the node's NDEATH after the host's offline STATE", () => observer.ndeaths.length > deathsBefore);
    const quietFrom = observer.messages.length;
    await new Promise((r) => setTimeout(r, 4000));
    assert.deepEqual(
      observer.messages.slice(quietFrom).map((m) => m.verb),
      [],
      "no birth and no data while the primary host is away",
    );

    // The host returns: births, then the held events, historical.
    const awayUntil = Date.now();
    await host.connect();
    await host.until("held events, historical", () => host.events.slice(beforeOutage).some((e) => e.historical && e.timestamp < awayUntil));
    await host.until("live events again", () => host.events.slice(beforeOutage).filter((e) => !e.historical).length >= 3);
    const historical = host.events.slice(beforeOutage).filter((e) => e.historical);
    assert.ok(historical.length > 0);
    for (const e of host.events.slice(beforeOutage)) if (e.timestamp >= awayUntil + 1000) assert.equal(e.historical, false, `${e.id} is live`);

    station.child.kill("SIGTERM");
    const ran = await station.done;
    assert.equal(ran.code, 0, ran.stderr);
    await host.until("the NDEATH at the stop", () => host.ndeaths.length >= 1);

    // Counted against the records: every rejected part is a defect event the host has, or one still held for the next start.
    const db = new Database(join(dir, "records.sqlite"), { readonly: true });
    const rejected = (db.prepare("SELECT run_id || ':' || part_id AS id FROM inspections WHERE outcome = 'rejected'").all() as Array<{ id: string }>).map((r) => `${NODE}:${r.id}`);
    const held = (db.prepare("SELECT message_id FROM outbox WHERE topic LIKE 'spBv1.0/%'").all() as Array<{ message_id: string }>).map((r) => r.message_id.replace(/^spb:/, ""));
    db.close();
    const received = new Set(host.events.map((e) => e.id));
    const lost = rejected.filter((id) => !received.has(id) && !held.includes(id));
    assert.ok(rejected.length > new Set(historical.map((e) => e.id)).size, "the line rejected parts before, during and after the outage");
    t.diagnostic(`rejected ${rejected.length}, events at the host ${received.size} distinct of ${host.events.length} (${host.events.filter((e) => e.historical).length} historical), still held ${held.length}, lost ${lost.length}`);
    assert.deepEqual(lost, [], "no defect event lost");
    assert.ok(received.size >= rejected.length - held.length);
    assert.deepEqual([...host.violations, ...observer.violations], []);
  } finally {
    station.child.kill("SIGKILL");
    await host.disconnect();
    await observer.disconnect();
    await json.endAsync(true);
    await broker.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
