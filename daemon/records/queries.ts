import { existsSync } from "node:fs";
import Database from "better-sqlite3";
import { EdgeError, errorCode, errorMessage } from "../util/errors.js";
import { SCHEMA_VERSION } from "./migrations.js";

/** Read-only questions the operator CLI asks of the records database. */

const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** "90s", "15m", "1h", "7d" → milliseconds. */
export function durationMs(text: string): number {
  const m = /^(\d+(?:\.\d+)?)([smhd])$/.exec(text.trim());
  if (!m) throw new EdgeError("E_USAGE", `'${text}' is not a duration like 90s, 15m, 1h or 7d`);
  return Number(m[1]) * UNITS[m[2]!]!;
}

export function openRecords(file: string): Database.Database {
  if (!existsSync(file)) throw new EdgeError("E_STORE_OPEN", `no records database at ${file} (has the station run with records.type: sqlite?)`);
  // Read-only next to the running daemon: WAL lets it read while the writer writes.
  const db = new Database(file, { readonly: true, fileMustExist: true, timeout: 5000 });
  let version: number;
  try {
    // The first read: where SQLite finds out a file is not a database.
    version = db.pragma("user_version", { simple: true }) as number;
  } catch (err) {
    db.close();
    throw new EdgeError("E_STORE_OPEN", `${file} is not a records database (${errorCode(err)}: ${errorMessage(err)})`);
  }
  // Read-only, it cannot be migrated here: the daemon migrates an older one when it starts.
  const problem =
    version === 0 ? "is not a records database (schema version 0)" : version > SCHEMA_VERSION ? `has schema version ${version}, newer than this release understands (${SCHEMA_VERSION})` : version < SCHEMA_VERSION ? `has schema version ${version}, older than this release's ${SCHEMA_VERSION}: start the daemon once to migrate it` : undefined;
  if (problem) {
    db.close();
    throw new EdgeError(version === 0 ? "E_STORE_OPEN" : "E_STORE_SCHEMA", `${file} ${problem}`);
  }
  return db;
}

export interface DefectRow {
  time: string;
  run: string;
  part: number;
  reason: string;
  classes: string;
  scores: string;
  model_version: string;
  snapshot: string | null;
}

export function defectsSince(db: Database.Database, sinceMs: number, cls?: string): DefectRow[] {
  return db
    .prepare(
      `SELECT i.triggered_at AS time, i.run_id AS run, i.part_id AS part, i.reason,
              COALESCE(GROUP_CONCAT(d.class, ' '), '') AS classes,
              COALESCE(GROUP_CONCAT(ROUND(d.score, 3), ' '), '') AS scores,
              i.model_version, i.snapshot_path AS snapshot
         FROM inspections i LEFT JOIN defects d ON d.inspection_id = i.id
        WHERE i.outcome = 'rejected' AND i.time_ms >= ?
          AND (? IS NULL OR i.reason = ? OR EXISTS (SELECT 1 FROM defects x WHERE x.inspection_id = i.id AND x.class = ?))
        GROUP BY i.id ORDER BY i.time_ms, i.id`,
    )
    .all(sinceMs, cls ?? null, cls ?? null, cls ?? null) as DefectRow[];
}

export interface StationStats {
  since: string;
  parts: number;
  accepted: number;
  rejected: number;
  reject_rate: number;
  rejected_by_reason: Record<string, number>;
  failsafe: Record<string, number>;
  latency_ms: { p50: number | null; p95: number | null; p99: number | null; max: number | null };
  alarms: number;
}

export function statsSince(db: Database.Database, sinceMs: number): StationStats {
  const totals = db
    .prepare(
      `SELECT COUNT(*) AS parts, COALESCE(SUM(outcome = 'accepted'), 0) AS accepted, COALESCE(SUM(outcome = 'rejected'), 0) AS rejected
         FROM inspections WHERE time_ms >= ?`,
    )
    .get(sinceMs) as { parts: number; accepted: number; rejected: number };
  const group = (sql: string) =>
    Object.fromEntries((db.prepare(sql).all(sinceMs) as Array<{ k: string; n: number }>).map((r) => [r.k, r.n]));
  const latencies = db.prepare("SELECT COUNT(*) AS n FROM inspections WHERE time_ms >= ? AND total_ms IS NOT NULL").get(sinceMs) as { n: number };
  const at = (p: number) =>
    latencies.n === 0
      ? null
      : (db
          .prepare("SELECT total_ms AS v FROM inspections WHERE time_ms >= ? AND total_ms IS NOT NULL ORDER BY total_ms LIMIT 1 OFFSET ?")
          .get(sinceMs, Math.min(latencies.n - 1, Math.max(0, Math.ceil((p / 100) * latencies.n) - 1))) as { v: number }).v;
  return {
    since: new Date(sinceMs).toISOString(),
    ...totals,
    reject_rate: totals.parts === 0 ? 0 : totals.rejected / totals.parts,
    rejected_by_reason: group("SELECT reason AS k, COUNT(*) AS n FROM inspections WHERE time_ms >= ? AND outcome = 'rejected' GROUP BY reason ORDER BY n DESC"),
    failsafe: group("SELECT failsafe AS k, COUNT(*) AS n FROM inspections WHERE time_ms >= ? AND failsafe IS NOT NULL GROUP BY failsafe ORDER BY n DESC"),
    latency_ms: { p50: at(50), p95: at(95), p99: at(99), max: at(100) },
    alarms: (db.prepare("SELECT COUNT(*) AS n FROM alarms WHERE time_ms >= ? AND active = 1").get(sinceMs) as { n: number }).n,
  };
}
