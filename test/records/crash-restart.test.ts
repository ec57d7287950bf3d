import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { rmSync } from "node:fs";
import { createInterface } from "node:readline";
import mqtt from "mqtt";
import Database from "better-sqlite3";
import { SqliteStore } from "../../daemon/records/sqlite-store.js";
import { MqttPublisher } from "../../daemon/publish/mqtt-publisher.js";
import { OutboxDrainer } from "../../daemon/publish/outbox-drainer.js";
import { topic } from "../../daemon/publish/topics.js";
import { sleep } from "../../daemon/util/clock.js";
import { Mosquitto } from "../fakes/mosquitto.js";
import { quietLog } from "../fakes/quiet-log.js";
import { publisherOptions } from "../publish/publisher-options.js";
import { storeOptions, tempDir } from "./parts.js";

const station = { site: "plant", line: "l1", device: "cam1" };

test("a recording process killed with SIGKILL: every row it reported durable is there, the database is intact, the outbox drains", async () => {
  const dir = tempDir("crash");
  const child = spawn(process.execPath, [new URL("./store-child.js", import.meta.url).pathname, "crash", dir], { stdio: ["ignore", "pipe", "inherit"] });
  let durable = 0;
  let runId = "";
  let reports = 0;
  for await (const line of createInterface({ input: child.stdout! })) {
    if (line.startsWith("run ")) runId = line.slice(4);
    if (line.startsWith("durable ")) {
      durable = Number(line.slice(8));
      if (++reports === 8) break;
    }
  }
  const exited = new Promise((r) => child.once("exit", r));
  child.kill("SIGKILL");
  await exited;
  assert.ok(durable >= 800);

  const path = storeOptions(dir).path;
  const db = new Database(path);
  assert.equal(db.pragma("integrity_check", { simple: true }), "ok");
  const have = db.prepare("SELECT part_id FROM inspections WHERE run_id = ? AND part_id <= ?").all(runId, durable).length;
  const rejected = db.prepare("SELECT run_id || ':' || part_id AS id FROM inspections WHERE outcome = 'rejected'").all() as Array<{ id: string }>;
  db.close();
  assert.equal(have, durable, "every row reported durable survived the kill");

  // Restarted: the outbox left by the killed process reaches an independent subscriber.
  const broker = await Mosquitto.start();
  const sub = await mqtt.connectAsync(broker.url, { clientId: "historian" });
  const received = new Set<string>();
  sub.on("message", (_t, p) => received.add((JSON.parse(p.toString()) as { id: string }).id));
  await sub.subscribeAsync(topic(station, "defects"), { qos: 1 });
  const store = new SqliteStore(storeOptions(dir), quietLog());
  await store.open();
  assert.notEqual(store.runId, runId);
  assert.equal(store.stats().outbox, rejected.length);
  const publisher = new MqttPublisher(publisherOptions(broker.url, station, "cam1"), quietLog());
  await publisher.connect();
  const drainer = new OutboxDrainer(store, publisher, 32, quietLog());
  drainer.start();
  try {
    const end = Date.now() + 30_000;
    while ((store.stats().outbox > 0 || received.size < rejected.length) && Date.now() < end) await sleep(20);
    assert.equal(store.stats().outbox, 0);
    for (const r of rejected) assert.ok(received.has(`cam1:${r.id}`), `missing ${r.id}`);
  } finally {
    drainer.stop();
    await publisher.close();
    await store.close();
    await sub.endAsync();
    await broker.close();
  }
  const after = new Database(path, { readonly: true });
  assert.equal(after.pragma("integrity_check", { simple: true }), "ok");
  assert.equal((after.prepare("SELECT COUNT(*) n FROM outbox").get() as { n: number }).n, 0);
  after.close();
  rmSync(dir, { recursive: true, force: true });
});
