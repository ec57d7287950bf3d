import { nowMs } from "../util/clock.js";
import type { Trigger, TriggerEvent } from "./trigger.js";

/**
 * A photo-eye on a belt moving parts past at a fixed rate, with optional
 * spacing jitter. Edges are scheduled against absolute times so the rate does
 * not drift with timer lateness; the edge time is the scheduled time, as a
 * hardware edge's timestamp would be.
 */
export class SimulatedTrigger implements Trigger {
  readonly kind = "simulated";
  private timer: NodeJS.Timeout | undefined;
  private running = false;

  constructor(
    private readonly rateHz: number,
    private readonly jitterMs = 0,
    private readonly random: () => number = Math.random,
  ) {}

  async start(sink: (event: TriggerEvent) => void): Promise<void> {
    this.running = true;
    const period = 1000 / this.rateHz;
    let next = nowMs() + period;
    const tick = () => {
      if (!this.running) return;
      const t = nowMs();
      // Emit every edge that is due, so a long GC pause delivers late edges
      // with their true times instead of losing parts.
      while (next <= t) {
        sink({ tMs: next });
        next += period + (this.random() * 2 - 1) * this.jitterMs;
      }
      this.timer = setTimeout(tick, Math.max(0, next - nowMs()));
    };
    this.timer = setTimeout(tick, period);
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
  }
}
