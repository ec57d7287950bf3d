// A daemon-like process around the SQLite store, driven by the tests in this
// folder: `crash DIR` records rejected parts until it is killed, printing how
// far the records are durable; `disk-full DIR` fills DIR's filesystem while
// recording, then frees it, and prints what it saw as JSON.
import { openSync, writeSync, closeSync, rmSync } from "node:fs";
import { join } from "node:path";
import { SqliteStore } from "../../daemon/records/sqlite-store.js";
import { defectMessage } from "../../daemon/publish/messages.js";
import { sleep } from "../../daemon/util/clock.js";
import type { Alarm } from "../../daemon/util/alarm.js";
import { quietLog } from "../fakes/quiet-log.js";
import { settledPart, storeOptions } from "./parts.js";

const [mode, dir] = process.argv.slice(2) as [string, string];
const station = { site: "plant", line: "l1", device: "cam1" };

async function crash(): Promise<void> {
  const store = new SqliteStore(storeOptions(dir, { batchMs: 5 }), quietLog());
  await store.open();
  process.stdout.write(`run ${store.runId}\n`);
  for (let id = 1; ; id++) {
    const p = settledPart(id);
    store.record(p, p.outcome === "rejected" ? [defectMessage(station, store.runId, p)] : []);
    if (id % 100 === 0) {
      await store.flush();
      if (store.stats().pendingWrites === 0) process.stdout.write(`durable ${id}\n`);
    }
  }
}

/** Fills the filesystem with one file until ENOSPC. */
function fill(file: string): void {
  const fd = openSync(file, "w");
  const block = Buffer.alloc(64 * 1024, 1);
  try {
    for (;;) writeSync(fd, block);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOSPC") throw err;
  } finally {
    closeSync(fd);
  }
}

async function diskFull(): Promise<void> {
  const store = new SqliteStore(storeOptions(dir, { batchMs: 5, maxPendingRows: 300, retryMs: 50 }), quietLog());
  const alarms: Alarm[] = [];
  store.onAlarm((a) => alarms.push(a));
  await store.open();
  let id = 0;
  const record = async (n: number) => {
    for (let i = 0; i < n; i++) {
      const p = settledPart(++id, "rejected");
      store.record(p, [defectMessage(station, store.runId, p)], new Uint8Array(2048).fill(id & 0xff));
      if (i % 50 === 49) await sleep(2);
    }
    await store.flush();
  };
  await record(200);
  const filler = join(dir, "filler");
  fill(filler);
  await record(1000);
  const during = store.stats();
  rmSync(filler);
  // Recovery is under test, not its speed: a busy machine may take a while to retry and drain.
  const until = Date.now() + 120_000;
  while ((store.stats().pendingWrites > 0 || !alarms.some((a) => !a.active)) && Date.now() < until) await sleep(20);
  await record(100);
  // flush() resolves once the rows were offered to the disk; a write that failed is retried until it lands.
  const landed = Date.now() + 120_000;
  while (store.stats().pendingWrites > 0 && Date.now() < landed) await sleep(20);
  const after = store.stats();
  await store.close();
  process.stdout.write(JSON.stringify({ recordedTotal: id, during, after, alarms }) + "\n");
}

await (mode === "crash" ? crash() : diskFull());
