import type { SettledPart } from "../pipeline/part.js";
import type { Alarm } from "../util/alarm.js";
import type { Review } from "./review.js";

/** A message waiting in the outbox for the broker's acknowledgement. */
export interface OutboxMessage {
  /** Stable across retries and restarts: subscribers de-duplicate on it. */
  id: string;
  topic: string;
  payload: string;
  qos: 0 | 1;
  retain?: boolean;
}

export interface OutboxEntry {
  /** Store-assigned, increasing: the publish order. */
  seq: number;
  message: OutboxMessage;
}


export interface StoreStats {
  /** Inspections durably written since open. */
  recorded: number;
  /** Inspections accepted by record() but not yet durable. */
  pendingWrites: number;
  outbox: number;
  /** Failed write attempts (each is retried). */
  writeErrors: number;
  /** Inspections given up on: the in-memory queue overflowed while the disk refused writes. */
  dropped: number;
  /** Outbox messages dropped oldest-first because the backlog exceeded its budget. */
  outboxDropped: number;
}

/**
 * The inspection log and its outbox. record() never blocks the hot path:
 * rows are queued and written in batches, each inspection in the same
 * transaction as its outbox messages, so nothing is announced that is not
 * also on record.
 */
export interface Store {
  readonly kind: string;
  /** Unique across restarts once open() resolved: part ids repeat per run, run + part does not. */
  readonly runId: string;
  open(): Promise<void>;
  /** `snapshot`: the part's image as an encoded JPEG, kept as a file beside the row. */
  record(part: SettledPart, outbox: OutboxMessage[], snapshot?: Uint8Array): void;
  /** Resolves once everything recorded so far was offered to the disk (see stats().pendingWrites). */
  flush(): Promise<void>;
  /** Oldest committed outbox entries with seq > afterSeq, in order. */
  outboxPeek(limit: number, afterSeq: number): Promise<OutboxEntry[]>;
  /** The broker acknowledged these: they are never offered again. */
  outboxDelete(seqs: number[]): void;
  /** Called when new outbox entries may be available. */
  onOutbox(listener: () => void): void;
  /** Alarms the store raises itself (disk full, backlog dropped...). */
  onAlarm(listener: (alarm: Alarm) => void): void;
  /** Keeps an alarm raised elsewhere (actuation, broker...) on record. */
  recordAlarm(alarm: Alarm): void;
  stats(): StoreStats;
  /** What the operator review reads and writes (operator writes go where the store writes). */
  review(): Review;
  close(): Promise<void>;
}
