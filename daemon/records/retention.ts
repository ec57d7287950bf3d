import { rmSync } from "node:fs";
import { join } from "node:path";
import type { Database } from "better-sqlite3";

/*
 * Retention runs in the writer thread, in small transactions so that a large
 * backlog of old rows never holds the write lock for long. Snapshot files go
 * with their rows; outbox rows are not touched here (they leave on PUBACK or
 * by the outbox budget).
 */

const CHUNK = 1000;

type Victim = { id: number; snapshot_path: string | null };

function removeRows(db: Database, snapshotDir: string, victims: Victim[]): void {
  if (victims.length === 0) return;
  const del = db.prepare("DELETE FROM inspections WHERE id = ?");
  db.transaction(() => {
    for (const v of victims) del.run(v.id);
  }).immediate();
  for (const v of victims) if (v.snapshot_path) rmSync(join(snapshotDir, v.snapshot_path), { force: true });
}

/** Inspections (with their defects and snapshots) and alarms older than cutoffMs. Returns rows removed. */
export function pruneByAge(db: Database, snapshotDir: string, cutoffMs: number): number {
  const pick = db.prepare("SELECT id, snapshot_path FROM inspections WHERE time_ms < ? ORDER BY id LIMIT ?");
  let n = 0;
  for (;;) {
    const victims = pick.all(cutoffMs, CHUNK) as Victim[];
    removeRows(db, snapshotDir, victims);
    n += victims.length;
    if (victims.length < CHUNK) break;
  }
  db.prepare("DELETE FROM alarms WHERE time_ms < ?").run(cutoffMs);
  return n;
}

/** Bytes the database's live pages take (freed pages are reused, so they do not count). */
export function usedBytes(db: Database): number {
  const pages = db.pragma("page_count", { simple: true }) as number;
  const free = db.pragma("freelist_count", { simple: true }) as number;
  const size = db.pragma("page_size", { simple: true }) as number;
  return (pages - free) * size;
}

/** Oldest inspections until the database's live pages fit maxBytes. Returns rows removed. */
export function pruneBySize(db: Database, snapshotDir: string, maxBytes: number): number {
  const pick = db.prepare("SELECT id, snapshot_path FROM inspections ORDER BY id LIMIT ?");
  let n = 0;
  while (usedBytes(db) > maxBytes) {
    const victims = pick.all(CHUNK) as Victim[];
    if (victims.length === 0) break;
    removeRows(db, snapshotDir, victims);
    n += victims.length;
  }
  return n;
}

/** Oldest snapshot files until their total fits maxBytes; the rows stay, without a snapshot. */
export function pruneSnapshots(db: Database, snapshotDir: string, maxBytes: number): number {
  const total = (db.prepare("SELECT COALESCE(SUM(snapshot_bytes), 0) AS b FROM inspections").get() as { b: number }).b;
  let excess = total - maxBytes;
  if (excess <= 0) return 0;
  const pick = db.prepare("SELECT id, snapshot_path, snapshot_bytes FROM inspections WHERE snapshot_path IS NOT NULL ORDER BY time_ms, id");
  const victims: Array<Victim & { snapshot_bytes: number }> = [];
  for (const v of pick.iterate() as Iterable<Victim & { snapshot_bytes: number }>) {
    if (excess <= 0) break;
    victims.push(v);
    excess -= v.snapshot_bytes;
  }
  const forget = db.prepare("UPDATE inspections SET snapshot_path = NULL, snapshot_bytes = 0 WHERE id = ?");
  for (let i = 0; i < victims.length; i += CHUNK) {
    const chunk = victims.slice(i, i + CHUNK);
    db.transaction(() => {
      for (const v of chunk) forget.run(v.id);
    }).immediate();
    for (const v of chunk) rmSync(join(snapshotDir, v.snapshot_path!), { force: true });
  }
  return victims.length;
}
