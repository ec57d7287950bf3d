import { test } from "node:test";
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import Database from "better-sqlite3";
import { SqliteStore } from "../../daemon/records/sqlite-store.js";
import type { Alarm } from "../../daemon/util/alarm.js";
import { defectMessage } from "../../daemon/publish/messages.js";
import { threadHealth } from "../../daemon/threads/thread-health.js";
import { killThread } from "../fakes/kill-thread.js";
import { quietLog } from "../fakes/quiet-log.js";
import { settledPart, storeOptions, tempDir } from "./parts.js";

const station = { site: "s", line: "l", device: "d" };

test("writer thread crash mid-run (its stop-and-alarm policy): writing stops, E_STORE_WORKER is raised, nothing is offered that was not written", async () => {
  const dir = tempDir("writer-crash");
  try {
    const store = new SqliteStore(storeOptions(dir), quietLog());
    const alarms: Alarm[] = [];
    store.onAlarm((a) => alarms.push(a));
    await store.open();
    const record = (from: number, to: number) => {
      for (let i = from; i <= to; i++) {
        const p = settledPart(i);
        store.record(p, p.outcome === "rejected" ? [defectMessage(station, store.runId, p)] : []);
      }
    };
    record(1, 30);
    await store.flush();
    assert.equal(store.stats().recorded, 30);

    await killThread("sqlite-writer.js");
    const t0 = Date.now();
    while (!alarms.some((a) => a.code === "E_STORE_WORKER")) {
      if (Date.now() - t0 > 30_000) assert.fail("no E_STORE_WORKER alarm");
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.match(alarms.find((a) => a.code === "E_STORE_WORKER")!.message, /writer thread exited with code 7; records are no longer written/);
    assert.ok(threadHealth().some((t) => t.name === "writer" && t.state === "down" && t.policy === "stop-and-alarm"));

    record(31, 40);
    await store.flush();
    const s = store.stats();
    assert.equal(s.recorded, 30, "nothing counted as written after the writer died");
    assert.equal(s.dropped, 10, "the rows after it are given up and counted");
    assert.deepEqual(await store.outboxPeek(100, 0), [], "the outbox offers nothing once its writer is gone");
    await store.close();

    const db = new Database(storeOptions(dir).path, { readonly: true });
    const parts = (db.prepare("SELECT part_id FROM inspections ORDER BY part_id").all() as Array<{ part_id: number }>).map((r) => r.part_id);
    assert.deepEqual(parts, Array.from({ length: 30 }, (_, i) => i + 1), "what was acknowledged as written is there, nothing else");
    const outboxParts = (db.prepare("SELECT payload FROM outbox").all() as Array<{ payload: string }>).map((r) => (JSON.parse(r.payload) as { part: number }).part);
    assert.ok(outboxParts.every((p) => p <= 30), "no message of an unwritten part was ever queued for the broker");
    assert.equal(outboxParts.length, 20);
    db.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
