import type { Logger } from "../util/log.js";
import type { Store } from "../records/store.js";
import type { Publisher } from "./publisher.js";

/**
 * Moves outbox entries to the broker in order with a bounded number awaiting
 * acknowledgement, deleting each only once acknowledged. After a failure it
 * starts again from the oldest unacknowledged entry: a subscriber may see a
 * duplicate, never a gap.
 */
export class OutboxDrainer {
  private lastSent = 0;
  private readonly inflight = new Set<number>();
  private running = false;
  private scheduled = false;
  published = 0;
  failures = 0;

  constructor(
    private readonly store: Store,
    private readonly publisher: Publisher,
    private readonly window: number,
    private readonly log: Logger,
  ) {}

  start(): void {
    this.running = true;
    this.store.onOutbox(() => this.kick());
    this.publisher.onConnect(() => this.kick());
    this.kick();
  }

  stop(): void {
    this.running = false;
  }

  /** Waits until the outbox is empty or the time is up; true when empty. */
  async drained(timeoutMs: number): Promise<boolean> {
    const until = Date.now() + timeoutMs;
    while (Date.now() < until) {
      if (this.store.stats().outbox === 0) return true;
      this.kick();
      await new Promise((r) => setTimeout(r, 20));
    }
    return this.store.stats().outbox === 0;
  }

  private kick(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    queueMicrotask(() => {
      this.scheduled = false;
      this.pump();
    });
  }

  private pump(): void {
    if (!this.running || !this.publisher.connected()) return;
    const room = this.window - this.inflight.size;
    if (room <= 0) return;
    for (const entry of this.store.outboxPeek(room, this.lastSent)) {
      this.lastSent = entry.seq;
      this.inflight.add(entry.seq);
      this.publisher.publish(entry.message).then(
        () => {
          this.inflight.delete(entry.seq);
          this.store.outboxDelete([entry.seq]);
          this.published++;
          this.kick();
        },
        (err: unknown) => {
          this.inflight.delete(entry.seq);
          this.failures++;
          // Resend from the oldest unacknowledged entry once the link is back.
          this.lastSent = Math.min(this.lastSent, entry.seq - 1);
          this.log.debug({ err, seq: entry.seq }, "publish failed, will resend");
          setTimeout(() => this.kick(), 200).unref();
        },
      );
    }
  }
}
