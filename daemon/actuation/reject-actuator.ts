import { nowMs } from "../util/clock.js";
import type { OutputLine } from "./gpio.js";

/**
 * Drives one reject output: a pulse of fixed width at a given time, never two
 * closer than the minimum gap (the ejector needs to retract). A pulse that
 * cannot start on time starts as soon as it can; its start time is returned
 * so the tracker can record the real actuation time.
 */
export class RejectActuator {
  private busyUntil = -Infinity;
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(
    private readonly line: OutputLine,
    private readonly pulseMs: number,
    private readonly minGapMs: number,
  ) {}

  pulse(atMs: number): Promise<number> {
    const start = Math.max(atMs, this.busyUntil);
    this.busyUntil = start + this.pulseMs + this.minGapMs;
    return new Promise((resolve) => {
      this.after(start - nowMs(), () => {
        const t = nowMs();
        this.line.set(true);
        this.after(this.pulseMs, () => {
          this.line.set(false);
          resolve(t);
        });
      });
    });
  }

  /** Output off and every scheduled pulse dropped. */
  stop(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.line.set(false);
  }

  private after(ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, Math.max(0, ms));
    this.timers.add(t);
  }
}
