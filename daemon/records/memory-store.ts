import type { SettledPart } from "../pipeline/part.js";
import { inspectionRow } from "./inspection-row.js";
import { MemoryReview } from "./memory-review.js";
import type { Review } from "./review.js";
import type { OutboxEntry, OutboxMessage, Store, StoreStats } from "./store.js";
import type { Alarm } from "../util/alarm.js";

/**
 * The store's in-memory twin: the same batching and outbox semantics as the
 * durable store, without a disk. Used by the demo and the tests.
 */
export class MemoryStore implements Store {
  readonly kind = "memory";
  readonly runId = Date.now().toString(36);
  readonly inspections: SettledPart[] = [];
  readonly alarms: Alarm[] = [];
  private queue: Array<{ part: SettledPart; outbox: OutboxMessage[] }> = [];
  private outbox: OutboxEntry[] = [];
  private seq = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly listeners: Array<() => void> = [];
  private readonly reviewRows = new MemoryReview();
  private closed = false;

  constructor(private readonly batchMs: number) {}

  async open(): Promise<void> {}

  record(part: SettledPart, outbox: OutboxMessage[]): void {
    // As the durable store: once closed, nothing more is taken.
    if (this.closed) return;
    this.queue.push({ part, outbox });
    this.timer ??= setTimeout(() => this.writeBatch(), this.batchMs);
  }

  async flush(): Promise<void> {
    this.writeBatch();
  }

  async outboxPeek(limit: number, afterSeq: number): Promise<OutboxEntry[]> {
    const out: OutboxEntry[] = [];
    for (const e of this.outbox) {
      if (e.seq <= afterSeq) continue;
      out.push(e);
      if (out.length >= limit) break;
    }
    return out;
  }

  outboxDelete(seqs: number[]): void {
    const gone = new Set(seqs);
    this.outbox = this.outbox.filter((e) => !gone.has(e.seq));
  }

  onOutbox(listener: () => void): void {
    this.listeners.push(listener);
  }

  onAlarm(_listener: (alarm: Alarm) => void): void {
    // Memory never fills up: no alarms to report.
  }

  recordAlarm(alarm: Alarm): void {
    this.alarms.push(alarm);
    this.reviewRows.addAlarm(alarm);
  }

  review(): Review {
    return this.reviewRows;
  }

  stats(): StoreStats {
    return {
      recorded: this.inspections.length,
      pendingWrites: this.queue.length,
      outbox: this.outbox.length,
      writeErrors: 0,
      dropped: 0,
      outboxDropped: 0,
    };
  }

  async close(): Promise<void> {
    this.writeBatch();
    this.closed = true;
  }

  private writeBatch(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.queue.length === 0) return;
    const batch = this.queue;
    this.queue = [];
    let announced = false;
    for (const { part, outbox } of batch) {
      this.inspections.push(part);
      this.reviewRows.add(this.runId, inspectionRow(part, []));
      for (const message of outbox) {
        this.outbox.push({ seq: ++this.seq, message });
        announced = true;
      }
    }
    if (announced) for (const l of this.listeners) l();
  }
}
