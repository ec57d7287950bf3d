import { test } from "node:test";
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import mqtt from "mqtt";
import Database from "better-sqlite3";
import { SqliteStore } from "../../daemon/records/sqlite-store.js";
import { MqttPublisher } from "../../daemon/publish/mqtt-publisher.js";
import { OutboxDrainer } from "../../daemon/publish/outbox-drainer.js";
import { defectMessage } from "../../daemon/publish/messages.js";
import { topic } from "../../daemon/publish/topics.js";
import { sleep } from "../../daemon/util/clock.js";
import { Mosquitto } from "../fakes/mosquitto.js";
import { quietLog } from "../fakes/quiet-log.js";
import { settledPart, storeOptions, tempDir } from "../records/parts.js";
import { publisherOptions } from "./publisher-options.js";

const station = { site: "plant", line: "l1", device: "cam1" };
const PARTS = 10_000;

// Completeness is under test here, not speed (bench records measures the drain): bounds for a busy machine.
async function until(what: string, cond: () => boolean, timeoutMs = 240_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

test("10,000 rejected parts through a broker stopped and SIGKILLed mid-stream: every defect id arrives, every row is kept", async () => {
  const broker = await Mosquitto.start({ persistence: true });
  const dir = tempDir("durability");
  // An independent subscriber with a persistent session: the broker queues for it while it is away.
  const received = new Set<string>();
  let deliveries = 0;
  const sub = mqtt.connect(broker.url, { clientId: "plant-historian", clean: false, reconnectPeriod: 100, protocolVersion: 4 });
  sub.on("message", (_t, payload) => {
    deliveries++;
    received.add((JSON.parse(payload.toString()) as { id: string }).id);
  });
  sub.on("error", () => undefined);
  await new Promise<void>((r) => sub.once("connect", () => r()));
  await sub.subscribeAsync(topic(station, "defects"), { qos: 1 });
  // A graceful stop saves the subscriber's session; the line starts with the broker down.
  await broker.stop();

  const store = new SqliteStore(storeOptions(dir), quietLog());
  await store.open();
  const publisher = new MqttPublisher(publisherOptions(broker.url, station, "cam1"), quietLog());
  await publisher.connect();
  const drainer = new OutboxDrainer(store, publisher, 32, quietLog());
  drainer.start();
  const ids: string[] = [];
  let next = 1;
  const produce = async (upTo: number) => {
    for (; next <= upTo; next++) {
      const p = settledPart(next, "rejected");
      const m = defectMessage(station, store.runId, p);
      ids.push(m.id);
      store.record(p, [m]);
      if (next % 250 === 0) await sleep(5);
    }
  };
  try {
    await produce(3000);
    await broker.restart();
    await produce(6000);
    await until("some defects delivered after the restart", () => drainer.published > 1000);
    await broker.kill();
    await produce(8000);
    await sleep(300);
    await broker.restart();
    await produce(PARTS);
    await until("every defect id at the subscriber", () => received.size === PARTS && store.stats().outbox === 0, 480_000);
    for (const id of ids) assert.ok(received.has(id), `missing ${id}`);
    assert.ok(deliveries >= PARTS);
    assert.ok(drainer.failures > 0, "the outage was felt by the drainer");
  } finally {
    drainer.stop();
    await publisher.close();
    await store.close();
    await sub.endAsync(true);
    await broker.close();
  }
  const db = new Database(storeOptions(dir).path, { readonly: true });
  const n = (db.prepare("SELECT COUNT(*) n FROM inspections WHERE outcome = 'rejected'").get() as { n: number }).n;
  const d = (db.prepare("SELECT COUNT(DISTINCT part_id) n FROM inspections").get() as { n: number }).n;
  db.close();
  rmSync(dir, { recursive: true, force: true });
  assert.equal(n, PARTS);
  assert.equal(d, PARTS);
});
