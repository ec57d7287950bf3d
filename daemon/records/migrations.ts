import type { Database } from "better-sqlite3";
import { EdgeError } from "../util/errors.js";

/**
 * Versioned schema changes, applied in order inside one transaction each and
 * tracked in `PRAGMA user_version`. Never edit a released step: add one.
 */
export const MIGRATIONS: ReadonlyArray<{ version: number; sql: string }> = [
  {
    version: 1,
    sql: `
      CREATE TABLE runs (
        id INTEGER PRIMARY KEY,
        started_at TEXT NOT NULL
      );
      CREATE TABLE model_versions (
        version TEXT PRIMARY KEY,
        first_seen TEXT NOT NULL
      );
      CREATE TABLE inspections (
        id INTEGER PRIMARY KEY,
        run_id TEXT NOT NULL,
        part_id INTEGER NOT NULL,
        triggered_at TEXT NOT NULL,
        settled_at TEXT NOT NULL,
        time_ms INTEGER NOT NULL,
        outcome TEXT NOT NULL CHECK (outcome IN ('accepted', 'rejected')),
        verdict TEXT NOT NULL,
        reason TEXT NOT NULL,
        failsafe TEXT,
        detail TEXT,
        capture_ms REAL, preprocess_ms REAL, infer_ms REAL, decide_ms REAL, total_ms REAL,
        pulse_late_ms REAL,
        model_version TEXT NOT NULL,
        snapshot_path TEXT,
        snapshot_bytes INTEGER NOT NULL DEFAULT 0,
        UNIQUE (run_id, part_id)
      );
      CREATE INDEX inspections_time ON inspections (time_ms);
      CREATE INDEX inspections_snapshot ON inspections (time_ms) WHERE snapshot_path IS NOT NULL;
      CREATE TABLE defects (
        inspection_id INTEGER NOT NULL REFERENCES inspections (id) ON DELETE CASCADE,
        class TEXT NOT NULL,
        score REAL NOT NULL,
        box_x REAL, box_y REAL, box_w REAL, box_h REAL
      );
      CREATE INDEX defects_inspection ON defects (inspection_id);
      CREATE INDEX defects_class ON defects (class);
      CREATE TABLE outbox (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        message_id TEXT NOT NULL,
        topic TEXT NOT NULL,
        payload TEXT NOT NULL,
        qos INTEGER NOT NULL,
        retain INTEGER NOT NULL DEFAULT 0
      );
      CREATE TABLE alarms (
        id INTEGER PRIMARY KEY,
        code TEXT NOT NULL,
        message TEXT NOT NULL,
        active INTEGER NOT NULL,
        time_ms INTEGER NOT NULL,
        time TEXT NOT NULL
      );
      CREATE INDEX alarms_time ON alarms (time_ms);
    `,
  },
  {
    // Operator review (daemon/http): verdicts on rejected parts for retraining,
    // alarm acknowledgements, and indexes that keep the defect log's keyset
    // paging on an index at any table size.
    version: 2,
    sql: `
      CREATE TABLE operator_verdicts (
        inspection_id INTEGER PRIMARY KEY REFERENCES inspections (id) ON DELETE CASCADE,
        verdict TEXT NOT NULL CHECK (verdict IN ('confirmed', 'false_reject')),
        operator TEXT NOT NULL,
        time_ms INTEGER NOT NULL
      );
      CREATE INDEX operator_verdicts_verdict ON operator_verdicts (verdict);
      CREATE TABLE alarm_acks (
        alarm_id INTEGER PRIMARY KEY REFERENCES alarms (id) ON DELETE CASCADE,
        operator TEXT NOT NULL,
        time_ms INTEGER NOT NULL
      );
      CREATE INDEX inspections_rejected_time ON inspections (time_ms, id) WHERE outcome = 'rejected';
      CREATE INDEX inspections_rejected_reason ON inspections (reason, time_ms, id) WHERE outcome = 'rejected';
    `,
  },
  {
    // Several lines on one station: each inspection names its line. Part ids
    // come from one sequence per run for every line, so (run_id, part_id)
    // stays unique; rows from before name none (NULL: the one line there was).
    version: 3,
    sql: `
      ALTER TABLE inspections ADD COLUMN line TEXT;
      CREATE INDEX inspections_line_time ON inspections (line, time_ms, id);
    `,
  },
  {
    // Several cameras per part: each defect names the view that saw it (its
    // box is in that view's pixels), and each view's own verdict is kept
    // beside the part's (the worst view's). Parts of one-camera lines have
    // no view rows and defects of view NULL.
    version: 4,
    sql: `
      ALTER TABLE defects ADD COLUMN view TEXT;
      CREATE TABLE inspection_views (
        inspection_id INTEGER NOT NULL REFERENCES inspections (id) ON DELETE CASCADE,
        view TEXT NOT NULL,
        verdict TEXT NOT NULL,
        class TEXT,
        score REAL,
        failsafe TEXT,
        detail TEXT,
        frame_seq INTEGER,
        model_version TEXT,
        PRIMARY KEY (inspection_id, view)
      );
    `,
  },
];

export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

/** Brings the database up to SCHEMA_VERSION; refuses a database from a newer release. */
export function migrate(db: Database): number {
  const current = db.pragma("user_version", { simple: true }) as number;
  if (current > SCHEMA_VERSION) {
    throw new EdgeError(
      "E_STORE_SCHEMA",
      `database schema version ${current} is newer than this release understands (${SCHEMA_VERSION}): refusing to touch it`,
    );
  }
  for (const m of MIGRATIONS) {
    if (m.version <= current) continue;
    db.transaction(() => {
      db.exec(m.sql);
      db.pragma(`user_version = ${m.version}`);
    }).immediate();
  }
  return SCHEMA_VERSION;
}
