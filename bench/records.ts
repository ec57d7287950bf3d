import { rmSync } from "node:fs";
import Database from "better-sqlite3";
import mqtt from "mqtt";
import pino from "pino";
import type { Benchmark, BenchOptions, BenchResult } from "./harness.js";
import { SqliteStore } from "../daemon/records/sqlite-store.js";
import { MqttPublisher } from "../daemon/publish/mqtt-publisher.js";
import { OutboxDrainer } from "../daemon/publish/outbox-drainer.js";
import { defectMessage } from "../daemon/publish/messages.js";
import { topic } from "../daemon/publish/topics.js";
import { sleep } from "../daemon/util/clock.js";
import { Mosquitto } from "../test/fakes/mosquitto.js";
import { settledPart, storeOptions, tempDir } from "../test/records/parts.js";
import { publisherOptions } from "../test/publish/publisher-options.js";

const station = { site: "bench", line: "l1", device: "cam1" };
const log = pino({ level: "silent" });

/** Inspections committed per second through the store (all rejected: each also writes an outbox row). */
async function storeRate(n: number, snapshotBytes: number): Promise<number> {
  const dir = tempDir("bench-records");
  const store = new SqliteStore(storeOptions(dir), log);
  await store.open();
  const jpeg = snapshotBytes > 0 ? new Uint8Array(snapshotBytes).fill(0x5a) : undefined;
  const t0 = performance.now();
  for (let i = 1; i <= n; i++) {
    const p = settledPart(i, "rejected");
    store.record(p, [defectMessage(station, store.runId, p)], jpeg);
    if (i % 500 === 0) await sleep(0);
  }
  await store.flush();
  while (store.stats().pendingWrites > 0) await sleep(5);
  const s = (performance.now() - t0) / 1000;
  await store.close();
  rmSync(dir, { recursive: true, force: true });
  return n / s;
}

/** The limit: one transaction per 2000 plain inserts on one connection, same pragmas. */
function bareInsertRate(n: number): number {
  const dir = tempDir("bench-bare");
  const db = new Database(`${dir}/bare.sqlite`);
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = FULL");
  db.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT, b REAL, c TEXT)");
  const ins = db.prepare("INSERT INTO t (a, b, c) VALUES (?, ?, ?)");
  const batch = db.transaction((k: number) => {
    for (let i = 0; i < 2000 && k + i < n; i++) ins.run("rejected", 0.9, "{\"id\":\"x\"}");
  });
  const t0 = performance.now();
  for (let k = 0; k < n; k += 2000) batch(k);
  const s = (performance.now() - t0) / 1000;
  db.close();
  rmSync(dir, { recursive: true, force: true });
  return n / s;
}

/** Outbox drain into Mosquitto: a backlog of n defects, published with a window of 32 until empty. */
async function drainRate(broker: Mosquitto, n: number): Promise<number> {
  const dir = tempDir("bench-drain");
  const store = new SqliteStore(storeOptions(dir), log);
  await store.open();
  for (let i = 1; i <= n; i++) {
    const p = settledPart(i, "rejected");
    store.record(p, [defectMessage(station, store.runId, p)]);
  }
  await store.flush();
  const publisher = new MqttPublisher(publisherOptions(broker.url, station, "bench-drain"), log);
  await publisher.connect();
  while (!publisher.connected()) await sleep(5);
  const drainer = new OutboxDrainer(store, publisher, 32, log);
  const t0 = performance.now();
  drainer.start();
  while (store.stats().outbox > 0) await sleep(2);
  const s = (performance.now() - t0) / 1000;
  drainer.stop();
  await publisher.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
  return n / s;
}

/** The limit: mqtt.js alone, QoS 1, the same window of 32 unacknowledged publishes. */
async function barePublishRate(broker: Mosquitto, n: number): Promise<number> {
  const client = await mqtt.connectAsync(broker.url, { clientId: "bench-bare" });
  const payload = defectMessage(station, "bench", settledPart(1, "rejected")).payload;
  const t0 = performance.now();
  let sent = 0;
  await Promise.all(
    Array.from({ length: 32 }, async () => {
      while (sent < n) {
        sent++;
        await client.publishAsync(topic(station, "defects"), payload, { qos: 1 });
      }
    }),
  );
  const s = (performance.now() - t0) / 1000;
  await client.endAsync();
  return n / s;
}

export const recordsBenchmark: Benchmark = {
  name: "records",
  description: "inspections committed/s (snapshots off/on), outbox drain into Mosquitto, beside bare better-sqlite3 and mqtt.js loops",
  async run(opts: BenchOptions): Promise<BenchResult> {
    const n = Math.max(1000, Math.round(20_000 * opts.scale));
    const broker = await Mosquitto.start();
    try {
      const rows = [
        { measure: "store: inspections committed/s, snapshots off", n, per_s: await storeRate(n, 0) },
        { measure: "store: inspections committed/s, 40 kB snapshots", n, per_s: await storeRate(n, 40_000) },
        { measure: "limit: bare better-sqlite3 inserts/s", n, per_s: bareInsertRate(n) },
        { measure: "outbox drain into Mosquitto, msgs/s", n, per_s: await drainRate(broker, n) },
        { measure: "limit: bare mqtt.js QoS 1 publishes/s", n, per_s: await barePublishRate(broker, n) },
      ].map((r) => ({ ...r, per_s: Math.round(r.per_s) }));
      return { rows, data: { n, rows } };
    } finally {
      await broker.close();
    }
  },
};
