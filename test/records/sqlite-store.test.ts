import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { SqliteStore } from "../../daemon/records/sqlite-store.js";
import { defectMessage } from "../../daemon/publish/messages.js";
import { quietLog } from "../fakes/quiet-log.js";
import { settledPart, storeOptions, tempDir } from "./parts.js";

const station = { site: "s", line: "l", device: "d" };

test("inspections, defects and outbox rows are committed together; the outbox survives a reopen", async () => {
  const dir = tempDir("store");
  try {
    const store = new SqliteStore(storeOptions(dir), quietLog());
    await store.open();
    const runId = store.runId;
    for (let i = 1; i <= 300; i++) {
      const p = settledPart(i);
      store.record(p, p.outcome === "rejected" ? [defectMessage(station, runId, p)] : []);
    }
    await store.flush();
    assert.equal(store.stats().recorded, 300);
    assert.equal(store.stats().outbox, 200);
    const first = await store.outboxPeek(5, 0);
    assert.deepEqual(first.map((e) => JSON.parse(e.message.payload).part), [1, 2, 4, 5, 7]);
    store.outboxDelete(first.slice(0, 2).map((e) => e.seq));
    // A delete not yet committed is never offered again.
    const next = await store.outboxPeek(2, 0);
    assert.deepEqual(next.map((e) => e.seq), first.slice(2, 4).map((e) => e.seq));
    await store.close();

    const db = new Database(storeOptions(dir).path, { readonly: true });
    assert.equal((db.prepare("SELECT COUNT(*) n FROM inspections").get() as { n: number }).n, 300);
    assert.equal((db.prepare("SELECT COUNT(*) n FROM defects").get() as { n: number }).n, 200);
    assert.equal((db.prepare("SELECT COUNT(*) n FROM outbox").get() as { n: number }).n, 198);
    assert.equal(db.pragma("journal_mode", { simple: true }), "wal");
    const row = db.prepare("SELECT * FROM inspections WHERE part_id = 2").get() as Record<string, unknown>;
    assert.equal(row.outcome, "rejected");
    assert.equal(row.reason, "scratch");
    assert.equal(row.infer_ms, 8);
    assert.equal(row.model_version, "sim-1");
    db.close();

    const again = new SqliteStore(storeOptions(dir), quietLog());
    await again.open();
    assert.notEqual(again.runId, runId, "a new run id on every open");
    assert.equal(again.stats().outbox, 198);
    await again.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("retention removes old rows with their snapshot files, and snapshots beyond their budget", async () => {
  const dir = tempDir("retention");
  try {
    const o = storeOptions(dir, { retention: { maxAgeDays: 1, maxDbBytes: 1 << 30, maxSnapshotBytes: 3000, checkMs: 60_000 } });
    const store = new SqliteStore(o, quietLog());
    await store.open();
    const jpeg = new Uint8Array(1000).fill(7);
    for (let i = 1; i <= 6; i++) {
      const p = settledPart(i, "rejected");
      // Parts 1 and 2 are two days old.
      if (i <= 2) p.tTriggerMs -= 2 * 86_400_000;
      store.record(p, [], jpeg);
    }
    await store.flush();
    const files = () => readdirSync(o.snapshotDir, { recursive: true }).filter((f) => String(f).endsWith(".jpg")).length;
    assert.equal(files(), 6);
    await store.prune();
    await store.close();
    const db = new Database(o.path, { readonly: true });
    const rows = db.prepare("SELECT part_id, snapshot_path FROM inspections ORDER BY part_id").all() as Array<{ part_id: number; snapshot_path: string | null }>;
    db.close();
    assert.deepEqual(rows.map((r) => r.part_id), [3, 4, 5, 6]);
    // 4 kB of snapshots against a 3 kB budget: the oldest one goes, its row stays.
    assert.deepEqual(rows.map((r) => r.snapshot_path !== null), [false, true, true, true]);
    assert.equal(files(), 3);
    for (const r of rows) if (r.snapshot_path) assert.ok(existsSync(join(o.snapshotDir, r.snapshot_path)));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("an outbox over its budget drops the oldest messages and raises an alarm", async () => {
  const dir = tempDir("outbox-budget");
  try {
    const store = new SqliteStore(storeOptions(dir, { outboxMaxRows: 50 }), quietLog());
    const alarms: string[] = [];
    store.onAlarm((a) => alarms.push(a.code));
    await store.open();
    for (let i = 1; i <= 80; i++) {
      const p = settledPart(i, "rejected");
      store.record(p, [defectMessage(station, store.runId, p)]);
    }
    await store.flush();
    assert.equal(store.stats().outbox, 50);
    assert.equal(store.stats().outboxDropped, 30);
    assert.ok(alarms.includes("E_OUTBOX_OVERFLOW"));
    const oldest = await store.outboxPeek(1, 0);
    assert.equal(JSON.parse(oldest[0]!.message.payload).part, 31);
    await store.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a database from a newer release is refused with a coded error", async () => {
  const dir = tempDir("newer");
  try {
    const o = storeOptions(dir);
    const db = new Database(o.path);
    db.pragma("user_version = 999");
    db.close();
    const store = new SqliteStore(o, quietLog());
    await assert.rejects(store.open(), (err: Error & { code?: string }) => err.code === "E_STORE_SCHEMA" && /newer/.test(err.message));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
