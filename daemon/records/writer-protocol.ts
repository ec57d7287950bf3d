import type { InspectionRow } from "./inspection-row.js";
import type { OutboxEntry } from "./store.js";
import type { Alarm } from "../util/alarm.js";
import type { AckResult, OperatorVerdict } from "./review.js";

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

/** The writer thread (sqlite-writer.ts) as SqliteStore hosts it. */
export interface WriterThread {
  ready: { runId: string; status: WriterStatus };
  events: { type: "status"; status: WriterStatus; outboxAdded: boolean } | { type: "alarm"; alarm: Alarm };
  requests: {
    peek: { in: { limit: number; afterSeq: number }; out: OutboxEntry[] };
    flush: { in: null; out: null };
    retention: { in: null; out: null };
    close: { in: null; out: null };
    verdict: { in: { id: number; verdict: OperatorVerdict; operator: string }; out: boolean };
    ack: { in: { id: number; operator: string }; out: AckResult };
  };
  notes: { type: "write"; rows: InspectionRow[] } | { type: "delete"; seqs: number[] } | { type: "alarm"; alarm: Alarm };
}

export interface WriterStatus {
  committed: number;
  pending: number;
  outbox: number;
  writeErrors: number;
  dropped: number;
  outboxDropped: number;
}
