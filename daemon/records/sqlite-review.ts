import Database from "better-sqlite3";
import { EdgeError } from "../util/errors.js";
import { limitPageCache } from "./page-cache.js";
import type { AckResult, AlarmRow, Cursor, DefectDetail, DefectFilter, DefectSummary, OperatorVerdict, Review } from "./review.js";

/** Operator writes, which the writer thread makes (SqliteStore). */
export interface OperatorWrites {
  setVerdict(id: number, verdict: OperatorVerdict, operator: string): Promise<boolean>;
  ackAlarm(id: number, operator: string): Promise<AckResult>;
}

/** The schema version that holds operator_verdicts and alarm_acks (records/migrations.ts). */
const REVIEW_SCHEMA = 2;

const SUMMARY_COLUMNS = `i.id, i.run_id, i.part_id, i.time_ms, i.reason AS class, i.model_version, i.failsafe,
  i.snapshot_path IS NOT NULL AS has_snapshot, v.verdict AS operator_verdict,
  (SELECT MAX(score) FROM defects d WHERE d.inspection_id = i.id) AS score`;

/**
 * The review's read-only connection to the records database: reads run on
 * indexes and are bounded by a page size. Operator verdicts and alarm
 * acknowledgements are written by the writer thread, the database's only
 * writer (operator-writes.ts), and answered once committed.
 */
export class SqliteReview implements Review {
  private readonly db: Database.Database;
  private readonly statements = new Map<string, Database.Statement>();

  constructor(
    path: string,
    readonly snapshotDir: string,
    private readonly writes: OperatorWrites,
  ) {
    this.db = new Database(path, { readonly: true, fileMustExist: true, timeout: 0 });
    limitPageCache(this.db);
    const version = this.db.pragma("user_version", { simple: true }) as number;
    if (version < REVIEW_SCHEMA) {
      this.db.close();
      throw new EdgeError("E_STORE_SCHEMA", `${path} has schema version ${version}; operator review needs ${REVIEW_SCHEMA}`);
    }
  }

  defects(filter: DefectFilter, limit: number, before?: Cursor): { items: DefectSummary[]; next: Cursor | null } {
    const where = ["i.outcome = 'rejected'"];
    const args: Array<string | number> = [];
    if (before) {
      where.push("(i.time_ms, i.id) < (?, ?)");
      args.push(before.timeMs, before.id);
    }
    if (filter.fromMs !== undefined) {
      where.push("i.time_ms >= ?");
      args.push(filter.fromMs);
    }
    if (filter.toMs !== undefined) {
      where.push("i.time_ms < ?");
      args.push(filter.toMs);
    }
    if (filter.class !== undefined) {
      where.push("i.reason = ?");
      args.push(filter.class);
    }
    if (filter.verdict === "unreviewed") where.push("v.inspection_id IS NULL");
    else if (filter.verdict !== undefined) {
      where.push("v.verdict = ?");
      args.push(filter.verdict);
    }
    const sql = `SELECT ${SUMMARY_COLUMNS} FROM inspections i LEFT JOIN operator_verdicts v ON v.inspection_id = i.id
      WHERE ${where.join(" AND ")} ORDER BY i.time_ms DESC, i.id DESC LIMIT ?`;
    const rows = this.statement(sql).all(...args, limit + 1) as Array<Omit<DefectSummary, "has_snapshot"> & { has_snapshot: number }>;
    const items = rows.slice(0, limit).map((r) => ({ ...r, has_snapshot: r.has_snapshot === 1 }));
    const last = items[items.length - 1];
    return { items, next: rows.length > limit && last ? { timeMs: last.time_ms, id: last.id } : null };
  }

  defect(id: number): DefectDetail | undefined {
    const r = this.statement(
      `SELECT ${SUMMARY_COLUMNS}, i.outcome, i.verdict, i.detail, i.triggered_at, i.settled_at, i.capture_ms, i.preprocess_ms, i.infer_ms,
        i.decide_ms, i.total_ms, i.pulse_late_ms, v.operator, v.time_ms AS verdict_time_ms
      FROM inspections i LEFT JOIN operator_verdicts v ON v.inspection_id = i.id WHERE i.id = ?`,
    ).get(id) as Record<string, unknown> | undefined;
    if (!r) return undefined;
    const findings = (
      this.statement("SELECT class, score, box_x, box_y, box_w, box_h, view FROM defects WHERE inspection_id = ? ORDER BY score DESC").all(id) as Array<{
        class: string;
        view: string | null;
        score: number;
        box_x: number | null;
        box_y: number | null;
        box_w: number | null;
        box_h: number | null;
      }>
    ).map((d) => ({
      class: d.class,
      score: d.score,
      box: d.box_x === null ? null : ([d.box_x, d.box_y ?? 0, d.box_w ?? 0, d.box_h ?? 0] as [number, number, number, number]),
      ...(d.view !== null && { view: d.view }),
    }));
    const views = this.statement("SELECT view, verdict, class, score, failsafe, detail FROM inspection_views WHERE inspection_id = ? ORDER BY rowid").all(id) as DefectDetail["views"];
    const n = (k: string) => (r[k] as number | null) ?? null;
    return {
      id: r.id as number,
      run_id: r.run_id as string,
      part_id: r.part_id as number,
      time_ms: r.time_ms as number,
      class: r.class as string,
      score: n("score"),
      model_version: r.model_version as string,
      failsafe: (r.failsafe as string | null) ?? null,
      has_snapshot: r.has_snapshot === 1,
      operator_verdict: (r.operator_verdict as OperatorVerdict | null) ?? null,
      outcome: r.outcome as string,
      verdict: r.verdict as string,
      detail: (r.detail as string | null) ?? null,
      triggered_at: r.triggered_at as string,
      settled_at: r.settled_at as string,
      timings_ms: {
        capture: n("capture_ms"),
        preprocess: n("preprocess_ms"),
        infer: n("infer_ms"),
        decide: n("decide_ms"),
        total: n("total_ms"),
        pulse_late: n("pulse_late_ms"),
      },
      findings,
      views,
      operator: (r.operator as string | null) ?? null,
      verdict_time_ms: n("verdict_time_ms"),
    };
  }

  /** The snapshot file's path relative to the snapshot folder, if the row has one. */
  snapshotPath(id: number): string | undefined {
    const r = this.statement("SELECT snapshot_path FROM inspections WHERE id = ?").get(id) as { snapshot_path: string | null } | undefined;
    return r?.snapshot_path ?? undefined;
  }

  /** Classes (and fail-safe reasons) that rejected parts in the log, for the filter. */
  classes(): string[] {
    return (this.statement("SELECT DISTINCT reason FROM inspections WHERE outcome = 'rejected' ORDER BY reason").all() as Array<{ reason: string }>).map(
      (r) => r.reason,
    );
  }

  setVerdict(id: number, verdict: OperatorVerdict, operator: string): Promise<boolean> {
    return this.writes.setVerdict(id, verdict, operator);
  }

  alarms(limit: number, beforeId?: number): { items: AlarmRow[]; next: number | null } {
    const rows = this.statement(
      `SELECT a.id, a.code, a.message, a.active, a.time_ms, k.operator AS acked_by, k.time_ms AS acked_ms
       FROM alarms a LEFT JOIN alarm_acks k ON k.alarm_id = a.id WHERE a.id < ? ORDER BY a.id DESC LIMIT ?`,
    ).all(beforeId ?? Number.MAX_SAFE_INTEGER, limit + 1) as Array<Omit<AlarmRow, "active"> & { active: number }>;
    const items = rows.slice(0, limit).map((r) => ({ ...r, active: r.active === 1 }));
    return { items, next: rows.length > limit ? items[items.length - 1]!.id : null };
  }

  ackAlarm(id: number, operator: string): Promise<AckResult> {
    return this.writes.ackAlarm(id, operator);
  }

  close(): void {
    this.db.close();
  }

  private statement(sql: string): Database.Statement {
    let s = this.statements.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      this.statements.set(sql, s);
    }
    return s;
  }
}
