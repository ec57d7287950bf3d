import Database from "better-sqlite3";
import { setTimeout as sleep } from "node:timers/promises";
import { EdgeError, errorCode } from "../util/errors.js";
import { limitPageCache } from "../records/page-cache.js";

/** Where the SQLite store keeps its rows and snapshot files. */
export interface RecordsLocation {
  path: string;
  snapshotDir: string;
}

export const OPERATOR_VERDICTS = ["confirmed", "false_reject"] as const;
export type OperatorVerdict = (typeof OPERATOR_VERDICTS)[number];

export interface DefectFilter {
  fromMs?: number;
  toMs?: number;
  class?: string;
  verdict?: OperatorVerdict | "unreviewed";
}

/** Keyset position: the last row of the previous page, newest first. */
export interface Cursor {
  timeMs: number;
  id: number;
}

export interface DefectSummary {
  id: number;
  run_id: string;
  part_id: number;
  time_ms: number;
  class: string;
  score: number | null;
  model_version: string;
  failsafe: string | null;
  has_snapshot: boolean;
  operator_verdict: OperatorVerdict | null;
}

export interface DefectDetail extends DefectSummary {
  outcome: string;
  verdict: string;
  detail: string | null;
  triggered_at: string;
  settled_at: string;
  timings_ms: { capture: number | null; preprocess: number | null; infer: number | null; decide: number | null; total: number | null; pulse_late: number | null };
  findings: Array<{ class: string; score: number; box: [number, number, number, number] | null }>;
  operator: string | null;
  verdict_time_ms: number | null;
}

export interface AlarmRow {
  id: number;
  code: string;
  message: string;
  active: boolean;
  time_ms: number;
  acked_by: string | null;
  acked_ms: number | null;
}

/** The schema version that holds operator_verdicts and alarm_acks (records/migrations.ts). */
const REVIEW_SCHEMA = 2;
const BUSY_RETRIES = 50;
const BUSY_RETRY_MS = 20;

const SUMMARY_COLUMNS = `i.id, i.run_id, i.part_id, i.time_ms, i.reason AS class, i.model_version, i.failsafe,
  i.snapshot_path IS NOT NULL AS has_snapshot, v.verdict AS operator_verdict,
  (SELECT MAX(score) FROM defects d WHERE d.inspection_id = i.id) AS score`;

/**
 * The review server's own connection to the store's database. Reads run on
 * indexes and are bounded by a page size. The few writes (operator verdicts,
 * alarm acknowledgements) never wait on the event loop: no busy wait (the
 * writer thread may hold the lock: retried asynchronously) and no fsync of
 * their own (synchronous=NORMAL: the writer's next FULL commit syncs the WAL
 * they are in).
 */
export class ReviewDb {
  private readonly db: Database.Database;
  private readonly statements = new Map<string, Database.Statement>();

  constructor(readonly location: RecordsLocation) {
    this.db = new Database(location.path, { fileMustExist: true, timeout: 0 });
    this.db.pragma("synchronous = NORMAL");
    this.db.pragma("foreign_keys = ON");
    limitPageCache(this.db);
    const version = this.db.pragma("user_version", { simple: true }) as number;
    if (version < REVIEW_SCHEMA) {
      this.db.close();
      throw new EdgeError("E_STORE_SCHEMA", `${location.path} has schema version ${version}; operator review needs ${REVIEW_SCHEMA}`);
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

  /** Every row of the filter, a page at a time, yielding to the event loop between pages. */
  async *allDefects(filter: DefectFilter, pageSize = 500): AsyncGenerator<DefectSummary[]> {
    let before: Cursor | undefined;
    for (;;) {
      const page = this.defects(filter, pageSize, before);
      if (page.items.length > 0) yield page.items;
      if (!page.next) return;
      before = page.next;
      await new Promise((r) => setImmediate(r));
    }
  }

  defect(id: number): DefectDetail | undefined {
    const r = this.statement(
      `SELECT ${SUMMARY_COLUMNS}, i.outcome, i.verdict, i.detail, i.triggered_at, i.settled_at, i.capture_ms, i.preprocess_ms, i.infer_ms,
        i.decide_ms, i.total_ms, i.pulse_late_ms, v.operator, v.time_ms AS verdict_time_ms
      FROM inspections i LEFT JOIN operator_verdicts v ON v.inspection_id = i.id WHERE i.id = ?`,
    ).get(id) as Record<string, unknown> | undefined;
    if (!r) return undefined;
    const findings = (
      this.statement("SELECT class, score, box_x, box_y, box_w, box_h FROM defects WHERE inspection_id = ? ORDER BY score DESC").all(id) as Array<{
        class: string;
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
    }));
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

  /** false when there is no rejected part with this id. */
  async setVerdict(id: number, verdict: OperatorVerdict, operator: string): Promise<boolean> {
    const exists = this.statement("SELECT 1 FROM inspections WHERE id = ? AND outcome = 'rejected'").get(id);
    if (!exists) return false;
    await this.write(() =>
      this.statement(
        `INSERT INTO operator_verdicts (inspection_id, verdict, operator, time_ms) VALUES (?, ?, ?, ?)
         ON CONFLICT (inspection_id) DO UPDATE SET verdict = excluded.verdict, operator = excluded.operator, time_ms = excluded.time_ms`,
      ).run(id, verdict, operator, Date.now()),
    );
    return true;
  }

  alarms(limit: number, beforeId?: number): { items: AlarmRow[]; next: number | null } {
    const rows = this.statement(
      `SELECT a.id, a.code, a.message, a.active, a.time_ms, k.operator AS acked_by, k.time_ms AS acked_ms
       FROM alarms a LEFT JOIN alarm_acks k ON k.alarm_id = a.id WHERE a.id < ? ORDER BY a.id DESC LIMIT ?`,
    ).all(beforeId ?? Number.MAX_SAFE_INTEGER, limit + 1) as Array<Omit<AlarmRow, "active"> & { active: number }>;
    const items = rows.slice(0, limit).map((r) => ({ ...r, active: r.active === 1 }));
    return { items, next: rows.length > limit ? items[items.length - 1]!.id : null };
  }

  /** "missing" when there is no such alarm, "cleared" for a clearing event (nothing to acknowledge). */
  async ackAlarm(id: number, operator: string): Promise<"ok" | "missing" | "cleared"> {
    const a = this.statement("SELECT active FROM alarms WHERE id = ?").get(id) as { active: number } | undefined;
    if (!a) return "missing";
    if (a.active !== 1) return "cleared";
    await this.write(() =>
      this.statement("INSERT INTO alarm_acks (alarm_id, operator, time_ms) VALUES (?, ?, ?) ON CONFLICT (alarm_id) DO NOTHING").run(id, operator, Date.now()),
    );
    return "ok";
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

  private async write(run: () => unknown): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        run();
        return;
      } catch (err) {
        if (!/^SQLITE_(BUSY|LOCKED)/.test(errorCode(err)) || attempt >= BUSY_RETRIES) throw err;
        await sleep(BUSY_RETRY_MS);
      }
    }
  }
}
