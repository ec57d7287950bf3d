import type { Alarm } from "../util/alarm.js";

/** What the operator review reads and writes, whichever store keeps the records. */

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
  /** `view`: the camera that saw it, on a line with several. */
  findings: Array<{ class: string; score: number; box: [number, number, number, number] | null; view?: string }>;
  /** Each view's verdict, for a part seen by several cameras (the part's is the worst view's); empty otherwise. */
  views: Array<{ view: string; verdict: string; class: string | null; score: number | null; failsafe: string | null; detail: string | null }>;
  operator: string | null;
  verdict_time_ms: number | null;
}

/** An alarm as the review lists it: the record, its id, and who acknowledged it. */
export type AlarmRow = Pick<Alarm, "code" | "message" | "active"> & {
  id: number;
  time_ms: number;
  acked_by: string | null;
  acked_ms: number | null;
};

export type AckResult = "ok" | "missing" | "cleared";

export interface Review {
  /** Where snapshot files are kept; undefined when the store keeps none. */
  readonly snapshotDir: string | undefined;
  defects(filter: DefectFilter, limit: number, before?: Cursor): { items: DefectSummary[]; next: Cursor | null };
  defect(id: number): DefectDetail | undefined;
  /** The snapshot file's path relative to snapshotDir, if the row has one. */
  snapshotPath(id: number): string | undefined;
  /** Classes (and fail-safe reasons) that rejected parts in the log, for the filter. */
  classes(): string[];
  /** false when there is no rejected part with this id. */
  setVerdict(id: number, verdict: OperatorVerdict, operator: string): Promise<boolean>;
  alarms(limit: number, beforeId?: number): { items: AlarmRow[]; next: number | null };
  /** "missing" when there is no such alarm, "cleared" for a clearing event (nothing to acknowledge). */
  ackAlarm(id: number, operator: string): Promise<AckResult>;
  close(): void;
}

/** Every row of the filter, a page at a time, yielding to the event loop between pages. */
export async function* allDefects(review: Review, filter: DefectFilter, pageSize = 500): AsyncGenerator<DefectSummary[]> {
  let before: Cursor | undefined;
  for (;;) {
    const page = review.defects(filter, pageSize, before);
    if (page.items.length > 0) yield page.items;
    if (!page.next) return;
    before = page.next;
    await new Promise((r) => setImmediate(r));
  }
}
