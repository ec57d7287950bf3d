import type { OutboxMessage } from "../../records/store.js";

/** Events kept for a replay at most: a bound on memory whatever the line's rate. */
const MAX_KEPT = 10_000;

/**
 * Defect events sent within the last `windowMs`, to send again (historical)
 * after the next birth when the host may have missed them: DDATA is QoS 0,
 * and a host that vanished is known to be gone only once its Will (STATE
 * offline) comes, up to 1.5 keepalives later; a host that saw a seq gap asks
 * for a rebirth. A host may therefore see an event twice, never miss one:
 * it de-duplicates on the event's id.
 */
export class RecentEvents {
  private sent: Array<{ entry: OutboxMessage; atMs: number }> = [];
  private replay: OutboxMessage[] = [];

  constructor(private readonly windowMs: number) {}

  noteSent(entry: OutboxMessage, nowMs: number): void {
    if (this.windowMs === 0) return;
    this.sent.push({ entry, atMs: nowMs });
    this.prune(nowMs);
  }

  /** The host may have missed what was sent lately: it goes out again after the next birth. */
  resendLater(nowMs: number): void {
    this.prune(nowMs);
    this.replay.push(...this.sent.map((s) => s.entry));
    this.sent = [];
    if (this.replay.length > MAX_KEPT) this.replay.splice(0, this.replay.length - MAX_KEPT);
  }

  /** What to send again now, oldest first. */
  take(): OutboxMessage[] {
    const r = this.replay;
    this.replay = [];
    return r;
  }

  private prune(nowMs: number): void {
    let drop = 0;
    while (drop < this.sent.length && (nowMs - this.sent[drop]!.atMs > this.windowMs || this.sent.length - drop > MAX_KEPT)) drop++;
    if (drop > 0) this.sent.splice(0, drop);
  }
}
