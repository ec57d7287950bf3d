import type { InspectionRow } from "./inspection-row.js";
import type { Alarm, OutboxEntry } from "./store.js";

/** What the writer thread is told at start. */
export interface WriterOptions {
  path: string;
  snapshotDir: string;
  busyTimeoutMs: number;
  journalSizeLimitBytes: number;
  /** Rows kept in memory while the disk refuses writes; beyond it the oldest are dropped and counted. */
  maxPendingRows: number;
  /** Outbox backlog budget; beyond it the oldest messages are dropped and counted as an alarm. */
  outboxMaxRows: number;
  retryMs: number;
  retention: {
    maxAgeDays: number;
    maxDbBytes: number;
    maxSnapshotBytes: number;
    checkMs: number;
  };
}

export type ToWriter =
  | { t: "write"; rows: InspectionRow[] }
  | { t: "delete"; seqs: number[] }
  | { t: "alarm"; alarm: Alarm }
  | { t: "peek"; id: number; limit: number; afterSeq: number }
  | { t: "flush"; id: number }
  | { t: "retention"; id: number }
  | { t: "close"; id: number };

export interface WriterStatus {
  committed: number;
  pending: number;
  outbox: number;
  writeErrors: number;
  dropped: number;
  outboxDropped: number;
}

export type FromWriter =
  | { t: "opened"; runId: string; status: WriterStatus }
  | { t: "open-failed"; code: string; message: string }
  | { t: "status"; status: WriterStatus; outboxAdded: boolean }
  | { t: "alarm"; alarm: Alarm }
  | { t: "peeked"; id: number; entries: OutboxEntry[] }
  | { t: "done"; id: number };
