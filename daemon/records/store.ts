import type { SettledPart } from "../pipeline/part.js";

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
  recorded: number;
  pendingWrites: number;
  outbox: number;
  writeErrors: number;
}

/**
 * The inspection log and its outbox. record() never blocks the hot path:
 * rows are queued and written in batches, each inspection in the same
 * transaction as its outbox messages, so nothing is announced that is not
 * also on record.
 */
export interface Store {
  readonly kind: string;
  open(): Promise<void>;
  record(part: SettledPart, outbox: OutboxMessage[]): void;
  /** Resolves once everything recorded so far is durable. */
  flush(): Promise<void>;
  /** Oldest outbox entries with seq > afterSeq, in order. */
  outboxPeek(limit: number, afterSeq: number): OutboxEntry[];
  outboxDelete(seqs: number[]): void;
  /** Resolves when new outbox entries may be available. */
  onOutbox(listener: () => void): void;
  stats(): StoreStats;
  close(): Promise<void>;
}
