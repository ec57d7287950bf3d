import type { Logger } from "../util/log.js";
import type { OutboxMessage, Store } from "../records/store.js";
import { errorCode, errorMessage } from "../util/errors.js";
import { PUBLISH_REFUSED, type Publisher } from "./publisher.js";

/**
 * Moves outbox entries to the broker in order with a bounded number awaiting
 * acknowledgement, deleting each only once acknowledged. After a failure it
 * starts again from the oldest unacknowledged entry: a subscriber may see a
 * duplicate, never a gap. A message the broker refuses for good is taken
 * out (its inspection row stays) rather than offered again forever in front
 * of every message behind it; the publisher raises the alarm.
 *
 * Two drainers may share one outbox, each taking the entries it `owns` (the
 * JSON topics, the Sparkplug node): each keeps its own place in it, so one
 * held back (the Sparkplug host away) holds nothing of the other's.
 */
export class OutboxDrainer {
  private lastSent = 0;
  private readonly inflight = new Set<number>();
  private running = false;
  private pumping = false;
  private again = false;
  /** Bumped on every failure: a peek answered from before the rewind is stale. */
  private epoch = 0;
  published = 0;
  failures = 0;
  /** Refused for good by the broker and taken out of the outbox. */
  refused = 0;

  constructor(
    private readonly store: Store,
    private readonly publisher: Pick<Publisher, "connected" | "publish" | "onConnect">,
    private readonly window: number,
    private readonly log: Logger,
    private readonly owns: (message: OutboxMessage) => boolean = () => true,
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
      if (this.store.stats().outbox === 0 && this.inflight.size === 0) return true;
      this.kick();
      await new Promise((r) => setTimeout(r, 20));
    }
    return this.store.stats().outbox === 0;
  }

  kick(): void {
    if (this.pumping) {
      this.again = true;
      return;
    }
    this.pumping = true;
    void this.pump().finally(() => {
      this.pumping = false;
      if (this.again) {
        this.again = false;
        this.kick();
      }
    });
  }

  private async pump(): Promise<void> {
    while (this.running && this.publisher.connected()) {
      const room = this.window - this.inflight.size;
      if (room <= 0) return;
      const epoch = this.epoch;
      const entries = await this.store.outboxPeek(room, this.lastSent);
      if (epoch !== this.epoch) continue;
      if (entries.length === 0) return;
      for (const entry of entries) {
        this.lastSent = entry.seq;
        // Still awaiting its PUBACK from before a rewind: that attempt settles it.
        if (this.inflight.has(entry.seq) || !this.owns(entry.message)) continue;
        this.send(entry.seq, entry.message);
      }
    }
  }

  private send(seq: number, message: Parameters<Publisher["publish"]>[0]): void {
    this.inflight.add(seq);
    this.publisher.publish(message).then(
      () => {
        this.inflight.delete(seq);
        this.store.outboxDelete([seq]);
        this.published++;
        this.kick();
      },
      (err: unknown) => {
        this.inflight.delete(seq);
        if (errorCode(err) === PUBLISH_REFUSED) {
          this.store.outboxDelete([seq]);
          this.refused++;
          this.log.error({ seq, id: message.id, code: PUBLISH_REFUSED }, `${message.id || message.topic}: ${errorMessage(err)}; taken out of the outbox`);
          this.kick();
          return;
        }
        this.failures++;
        this.epoch++;
        // Resend from the oldest unacknowledged entry once the link is back.
        this.lastSent = Math.min(this.lastSent, seq - 1);
        this.log.debug({ err, seq }, "publish failed, will resend");
        setTimeout(() => this.kick(), 200).unref();
      },
    );
  }
}
