import type { Alarm } from "../util/alarm.js";
import type { InspectionRow } from "./inspection-row.js";
import type { AckResult, AlarmRow, Cursor, DefectDetail, DefectFilter, DefectSummary, OperatorVerdict, Review } from "./review.js";

interface Kept {
  id: number;
  runId: string;
  row: InspectionRow;
  verdict?: { verdict: OperatorVerdict; operator: string; timeMs: number };
}

/**
 * The memory store's answer to the review: the same rows, filters, keyset
 * pages and operator writes as the records database, kept in memory for as
 * long as the process runs. It keeps no snapshot files.
 */
export class MemoryReview implements Review {
  readonly snapshotDir = undefined;
  private readonly inspections: Kept[] = [];
  private readonly rejected: Kept[] = [];
  private readonly alarmRows: Array<{ id: number; alarm: Alarm; ack?: { operator: string; timeMs: number } }> = [];

  add(runId: string, row: InspectionRow): void {
    const kept = { id: this.inspections.length + 1, runId, row };
    this.inspections.push(kept);
    if (row.outcome === "rejected") this.rejected.push(kept);
  }

  addAlarm(alarm: Alarm): void {
    this.alarmRows.push({ id: this.alarmRows.length + 1, alarm });
  }

  defects(filter: DefectFilter, limit: number, before?: Cursor): { items: DefectSummary[]; next: Cursor | null } {
    const items: DefectSummary[] = [];
    // Newest first by (time, id), as the database's index orders them.
    const ordered = [...this.rejected].sort((a, b) => b.row.timeMs - a.row.timeMs || b.id - a.id);
    for (const k of ordered) {
      if (before && (k.row.timeMs > before.timeMs || (k.row.timeMs === before.timeMs && k.id >= before.id))) continue;
      if (!matches(k, filter)) continue;
      if (items.length === limit) {
        const last = items[items.length - 1]!;
        return { items, next: { timeMs: last.time_ms, id: last.id } };
      }
      items.push(summary(k));
    }
    return { items, next: null };
  }

  defect(id: number): DefectDetail | undefined {
    const k = this.inspections[id - 1];
    if (!k) return undefined;
    const r = k.row;
    return {
      ...summary(k),
      outcome: r.outcome,
      verdict: r.verdict,
      detail: r.detail,
      triggered_at: r.triggeredAt,
      settled_at: r.settledAt,
      timings_ms: { capture: r.captureMs, preprocess: r.preprocessMs, infer: r.inferMs, decide: r.decideMs, total: r.totalMs, pulse_late: r.pulseLateMs },
      findings: [...r.defects].sort((a, b) => b.score - a.score).map(({ view, ...d }) => ({ ...d, ...(view !== null && { view }) })),
      views: r.views.map((v) => ({ view: v.view, verdict: v.verdict, class: v.class, score: v.score, failsafe: v.failsafe, detail: v.detail })),
      operator: k.verdict?.operator ?? null,
      verdict_time_ms: k.verdict?.timeMs ?? null,
    };
  }

  snapshotPath(): string | undefined {
    return undefined;
  }

  classes(): string[] {
    return [...new Set(this.rejected.map((k) => k.row.reason))].sort();
  }

  async setVerdict(id: number, verdict: OperatorVerdict, operator: string): Promise<boolean> {
    const k = this.inspections[id - 1];
    if (!k || k.row.outcome !== "rejected") return false;
    k.verdict = { verdict, operator, timeMs: Date.now() };
    return true;
  }

  alarms(limit: number, beforeId?: number): { items: AlarmRow[]; next: number | null } {
    const items: AlarmRow[] = [];
    for (let i = Math.min(this.alarmRows.length, (beforeId ?? Number.MAX_SAFE_INTEGER) - 1); i >= 1; i--) {
      if (items.length === limit) return { items, next: items[items.length - 1]!.id };
      const { id, alarm, ack } = this.alarmRows[i - 1]!;
      items.push({ id, code: alarm.code, message: alarm.message, active: alarm.active, time_ms: alarm.timeMs, acked_by: ack?.operator ?? null, acked_ms: ack?.timeMs ?? null });
    }
    return { items, next: null };
  }

  async ackAlarm(id: number, operator: string): Promise<AckResult> {
    const a = this.alarmRows[id - 1];
    if (!a) return "missing";
    if (!a.alarm.active) return "cleared";
    a.ack ??= { operator, timeMs: Date.now() };
    return "ok";
  }

  close(): void {
    // The rows stay with the store: a review server restarted in the same run sees them again.
  }
}

function matches(k: Kept, f: DefectFilter): boolean {
  const r = k.row;
  if (f.fromMs !== undefined && r.timeMs < f.fromMs) return false;
  if (f.toMs !== undefined && r.timeMs >= f.toMs) return false;
  if (f.class !== undefined && r.reason !== f.class) return false;
  if (f.verdict === "unreviewed") return k.verdict === undefined;
  if (f.verdict !== undefined) return k.verdict?.verdict === f.verdict;
  return true;
}

function summary(k: Kept): DefectSummary {
  const r = k.row;
  return {
    id: k.id,
    run_id: k.runId,
    part_id: r.partId,
    time_ms: r.timeMs,
    class: r.reason,
    score: r.defects.length > 0 ? Math.max(...r.defects.map((d) => d.score)) : null,
    model_version: r.modelVersion,
    failsafe: r.failsafe,
    has_snapshot: false,
    operator_verdict: k.verdict?.verdict ?? null,
  };
}
