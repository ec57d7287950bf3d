import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import Database from "better-sqlite3";
import { errorCode, errorMessage } from "../util/errors.js";
import { migrate } from "./migrations.js";
import { snapshotPath } from "./snapshot-path.js";
import { pruneByAge, pruneBySize, pruneSnapshots } from "./retention.js";
import type { InspectionRow } from "./inspection-row.js";
import type { OutboxEntry } from "./store.js";
import type { Alarm } from "../util/alarm.js";
import { ThreadSide } from "../threads/thread-side.js";
import type { WriterOptions, WriterStatus, WriterThread } from "./writer-protocol.js";
import { limitPageCache } from "./page-cache.js";
import { operatorWrites } from "./operator-writes.js";

/*
 * The writer thread: it alone holds the write connection, so the event loop
 * of the line never waits for an fsync. Rows arrive in batches, are committed
 * together (inspection + defects + outbox in one transaction), and stay
 * queued in memory (bounded) while the disk refuses them.
 */

const thread = new ThreadSide<WriterThread>();
const o = thread.data as WriterOptions;

/** Errors that may go away (space freed, lock released, card re-seated): retry, do not drop. */
const TRANSIENT = /^SQLITE_(FULL|IOERR|BUSY|LOCKED|CANTOPEN|PROTOCOL|READONLY|NOMEM)|^(ENOSPC|EIO|EDQUOT|EROFS)$/;
const MAX_TX_ROWS = 2000;

let db: Database.Database;
let runId = "";
const pending: InspectionRow[] = [];
const pendingDeletes = new Set<number>();
const pendingAlarms: Alarm[] = [];
const knownModels = new Set<string>();
const status: WriterStatus = { committed: 0, pending: 0, outbox: 0, writeErrors: 0, dropped: 0, outboxDropped: 0 };
let failing: string | undefined;
let dropAlarmRaised = false;
let commitTimer: NodeJS.Immediate | NodeJS.Timeout | undefined;
let retentionTimer: NodeJS.Timeout | undefined;

function connect(): Database.Database {
  mkdirSync(dirname(o.path), { recursive: true });
  const d = new Database(o.path, { timeout: o.busyTimeoutMs });
  d.pragma("journal_mode = WAL");
  // WAL with synchronous=NORMAL is durable only up to the last checkpoint: a
  // power cut may roll back transactions the drainer has already announced.
  // FULL syncs the WAL on every commit, so what was committed (and is
  // therefore allowed into the outbox) survives power loss; batching keeps
  // the cost at one fsync per batch.
  d.pragma("synchronous = FULL");
  d.pragma(`journal_size_limit = ${o.journalSizeLimitBytes}`);
  d.pragma("foreign_keys = ON");
  limitPageCache(d);
  return d;
}

function openDb(): void {
  db = connect();
  migrate(db);
  try {
    const r = db.prepare("INSERT INTO runs (started_at) VALUES (?)").run(new Date().toISOString());
    runId = String(r.lastInsertRowid);
  } catch (err) {
    // A full disk at start must not stop the line: a run id from the clock is unique enough for this run.
    runId = `t${Date.now().toString(36)}`;
    raise("E_STORE_WRITE", `cannot write to ${o.path}: ${errorCode(err)} ${errorMessage(err)}`);
  }
  status.outbox = (db.prepare("SELECT COUNT(*) AS n FROM outbox").get() as { n: number }).n;
  for (const r of db.prepare("SELECT version FROM model_versions").all() as Array<{ version: string }>) knownModels.add(r.version);
}

const MAX_PENDING_ALARMS = 1000;

function raise(code: string, message: string): void {
  const alarm = { code, message, active: true, timeMs: Date.now() };
  if (pendingAlarms.length < MAX_PENDING_ALARMS) pendingAlarms.push(alarm);
  thread.emit({ type: "alarm", alarm });
}

function clear(code: string, message: string): void {
  const alarm = { code, message, active: false, timeMs: Date.now() };
  if (pendingAlarms.length < MAX_PENDING_ALARMS) pendingAlarms.push(alarm);
  thread.emit({ type: "alarm", alarm });
}

let stmts: ReturnType<typeof prepare> | undefined;
let operator: ReturnType<typeof operatorWrites> | undefined;
function prepare() {
  return {
    inspection: db.prepare(`INSERT INTO inspections (run_id, part_id, triggered_at, settled_at, time_ms, outcome, verdict, reason,
        failsafe, detail, capture_ms, preprocess_ms, infer_ms, decide_ms, total_ms, pulse_late_ms, model_version, snapshot_path, snapshot_bytes, line)
      VALUES (@runId, @partId, @triggeredAt, @settledAt, @timeMs, @outcome, @verdict, @reason, @failsafe, @detail, @captureMs,
        @preprocessMs, @inferMs, @decideMs, @totalMs, @pulseLateMs, @modelVersion, @snapshotPath, @snapshotBytes, @line)
      ON CONFLICT (run_id, part_id) DO NOTHING`),
    defect: db.prepare("INSERT INTO defects (inspection_id, class, score, box_x, box_y, box_w, box_h, view) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"),
    view: db.prepare(`INSERT INTO inspection_views (inspection_id, view, verdict, class, score, failsafe, detail, frame_seq, model_version)
      VALUES (@id, @view, @verdict, @class, @score, @failsafe, @detail, @frameSeq, @modelVersion)`),
    outbox: db.prepare("INSERT INTO outbox (message_id, topic, payload, qos, retain) VALUES (?, ?, ?, ?, ?)"),
    del: db.prepare("DELETE FROM outbox WHERE seq = ?"),
    alarm: db.prepare("INSERT INTO alarms (code, message, active, time_ms, time) VALUES (?, ?, ?, ?, ?)"),
    model: db.prepare("INSERT OR IGNORE INTO model_versions (version, first_seen) VALUES (?, ?)"),
    trimOutbox: db.prepare("DELETE FROM outbox WHERE seq IN (SELECT seq FROM outbox ORDER BY seq LIMIT ?)"),
    peek: db.prepare("SELECT seq, message_id, topic, payload, qos, retain FROM outbox WHERE seq > ? ORDER BY seq LIMIT ?"),
  };
}

/** Writes the snapshot before its row; a snapshot that cannot be written is given up, never the row. */
function writeSnapshot(row: InspectionRow): { path: string | null; bytes: number } {
  if (!row.snapshot) return { path: null, bytes: 0 };
  const rel = snapshotPath(runId, row.partId);
  try {
    mkdirSync(dirname(join(o.snapshotDir, rel)), { recursive: true });
    writeFileSync(join(o.snapshotDir, rel), row.snapshot);
    return { path: rel, bytes: row.snapshot.byteLength };
  } catch (err) {
    rmSync(join(o.snapshotDir, rel), { force: true });
    raise("E_SNAPSHOT_WRITE", `cannot write snapshot ${rel}: ${errorCode(err)}`);
    return { path: null, bytes: 0 };
  } finally {
    row.snapshot = null;
  }
}

function insertRow(row: InspectionRow, snap: { path: string | null; bytes: number }): boolean {
  const s = stmts!;
  const r = s.inspection.run({ ...row, runId, snapshotPath: snap.path, snapshotBytes: snap.bytes });
  if (r.changes === 0) return false;
  const id = r.lastInsertRowid;
  for (const d of row.defects) s.defect.run(id, d.class, d.score, d.box?.[0] ?? null, d.box?.[1] ?? null, d.box?.[2] ?? null, d.box?.[3] ?? null, d.view);
  for (const v of row.views) s.view.run({ ...v, id });
  for (const m of row.outbox) s.outbox.run(m.id, m.topic, m.payload, m.qos, m.retain ? 1 : 0);
  if (!knownModels.has(row.modelVersion)) s.model.run(row.modelVersion, row.settledAt);
  return true;
}

function commit(): void {
  commitTimer = undefined;
  if (pending.length === 0 && pendingDeletes.size === 0 && pendingAlarms.length === 0) return;
  const batch = pending.slice(0, MAX_TX_ROWS);
  const deletes = [...pendingDeletes];
  const alarms = pendingAlarms.slice();
  const snaps = batch.map(writeSnapshot);
  let added = 0;
  let deleted = 0;
  const newModels: string[] = [];
  try {
    stmts ??= prepare();
    const s = stmts;
    db.transaction(() => {
      for (let i = 0; i < batch.length; i++) {
        const row = batch[i]!;
        if (insertRow(row, snaps[i]!)) {
          added += row.outbox.length;
          if (!knownModels.has(row.modelVersion)) newModels.push(row.modelVersion);
        }
      }
      for (const seq of deletes) deleted += s.del.run(seq).changes;
      for (const a of alarms) s.alarm.run(a.code, a.message, a.active ? 1 : 0, a.timeMs, new Date(a.timeMs).toISOString());
    }).immediate();
  } catch (err) {
    for (let i = 0; i < batch.length; i++) batch[i]!.snapshot = null;
    onWriteError(err, snaps);
    return;
  }
  pending.splice(0, batch.length);
  for (const seq of deletes) pendingDeletes.delete(seq);
  pendingAlarms.splice(0, alarms.length);
  for (const m of newModels) knownModels.add(m);
  status.committed += batch.length;
  status.outbox += added - deleted;
  if (failing) {
    clear(failing, "writes to the database succeed again");
    failing = undefined;
    dropAlarmRaised = false;
  }
  trimOutbox();
  report(added > 0);
  if (pending.length > 0 || pendingAlarms.length > 0) schedule(0);
}

function onWriteError(err: unknown, snaps: Array<{ path: string | null }>): void {
  // The row is retried without its snapshot file: remove what was written for it.
  for (const s of snaps) if (s.path) rmSync(join(o.snapshotDir, s.path), { force: true });
  status.writeErrors++;
  const code = errorCode(err);
  if (!TRANSIENT.test(code)) {
    // A row the database will never take must not hold up the ones behind it.
    const bad = pending.shift();
    if (bad) status.dropped++;
    raise("E_STORE_REJECTED", `inspection of part ${bad?.partId} dropped: ${code} ${errorMessage(err)}`);
    report(false);
    schedule(0);
    return;
  }
  if (!failing) {
    failing = "E_STORE_WRITE";
    raise(failing, `cannot write to ${o.path}: ${code} ${errorMessage(err)}; keeping up to ${o.maxPendingRows} inspections in memory`);
  }
  report(false);
  schedule(o.retryMs);
}

function trimOutbox(): void {
  const over = status.outbox - o.outboxMaxRows;
  if (over <= 0) return;
  try {
    const n = stmts!.trimOutbox.run(over).changes;
    status.outbox -= n;
    status.outboxDropped += n;
    raise("E_OUTBOX_OVERFLOW", `outbox backlog over ${o.outboxMaxRows} messages: ${n} oldest dropped (${status.outboxDropped} in all)`);
  } catch (err) {
    status.writeErrors++;
  }
}

function report(outboxAdded: boolean): void {
  status.pending = pending.length;
  // A delete acknowledged twice (a resend after a reconnect) is counted until
  // its commit finds nothing to remove: the estimate never goes below empty.
  thread.emit({ type: "status", status: { ...status, outbox: Math.max(0, status.outbox - pendingDeletes.size) }, outboxAdded });
}

function schedule(delayMs: number): void {
  if (commitTimer) {
    if (delayMs > 0) return;
    clearTimeout(commitTimer as NodeJS.Timeout);
    clearImmediate(commitTimer as NodeJS.Immediate);
  }
  commitTimer = delayMs > 0 ? setTimeout(commit, delayMs) : setImmediate(commit);
}

function enqueue(rows: InspectionRow[]): void {
  for (const r of rows) pending.push(r);
  const over = pending.length - o.maxPendingRows;
  if (over > 0) {
    pending.splice(0, over);
    status.dropped += over;
    if (!dropAlarmRaised) {
      raise("E_STORE_DROPPED", `inspections are being dropped: the database refuses writes and ${o.maxPendingRows} are already queued`);
      dropAlarmRaised = true;
    }
  }
  if (!failing) schedule(0);
}

function peek(limit: number, afterSeq: number): OutboxEntry[] {
  stmts ??= prepare();
  const rows = stmts.peek.all(afterSeq, limit + pendingDeletes.size) as Array<{
    seq: number;
    message_id: string;
    topic: string;
    payload: string;
    qos: number;
    retain: number;
  }>;
  return rows
    .filter((r) => !pendingDeletes.has(r.seq))
    .slice(0, limit)
    .map((r) => ({ seq: r.seq, message: { id: r.message_id, topic: r.topic, payload: r.payload, qos: r.qos === 0 ? 0 : 1, retain: r.retain === 1 } }));
}

function retention(): void {
  try {
    const r = o.retention;
    pruneByAge(db, o.snapshotDir, Date.now() - r.maxAgeDays * 86_400_000);
    pruneBySize(db, o.snapshotDir, r.maxDbBytes);
    pruneSnapshots(db, o.snapshotDir, r.maxSnapshotBytes);
    db.pragma("wal_checkpoint(PASSIVE)");
  } catch (err) {
    status.writeErrors++;
    if (!failing) raise("E_STORE_RETENTION", `retention failed: ${errorCode(err)} ${errorMessage(err)}`);
  }
}

function close(): null {
  if (retentionTimer) clearInterval(retentionTimer);
  commit();
  try {
    db.pragma("wal_checkpoint(TRUNCATE)");
    db.close();
  } catch {
    // Closing on a full disk: SQLite recovers the WAL at the next open.
  }
  return null;
}

thread.serve({
  note: (m) => {
    switch (m.type) {
      case "write":
        enqueue(m.rows);
        break;
      case "delete":
        for (const s of m.seqs) pendingDeletes.add(s);
        if (!failing) schedule(0);
        break;
      case "alarm":
        pendingAlarms.push(m.alarm);
        if (!failing) schedule(0);
        break;
    }
  },
  requests: {
    peek: ({ limit, afterSeq }) => {
      try {
        return peek(limit, afterSeq);
      } catch {
        status.writeErrors++;
        return [];
      }
    },
    flush: () => {
      commit();
      return null;
    },
    retention: () => {
      retention();
      return null;
    },
    close,
    verdict: ({ id, verdict, operator: by }) => (operator ??= operatorWrites(db)).setVerdict(id, verdict, by),
    ack: ({ id, operator: by }) => (operator ??= operatorWrites(db)).ackAlarm(id, by),
  },
});

try {
  openDb();
  retention();
  retentionTimer = setInterval(retention, o.retention.checkMs);
  status.pending = 0;
  thread.ready({ runId, status: { ...status } });
} catch (err) {
  thread.startFailed(err);
}
