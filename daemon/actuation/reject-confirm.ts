import type { InputLine } from "./gpio.js";
import type { Alarms } from "./alarms.js";

/**
 * A sensor that sees each part the ejector pushed into the bin. A pulse
 * with no confirming edge within `withinMs` of its start raises an alarm
 * (jammed ejector, empty air line, part missed).
 */
export class RejectConfirm {
  private readonly recent: number[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(
    private readonly station: string,
    input: InputLine,
    private readonly withinMs: number,
    private readonly alarms: Alarms,
  ) {
    input.watch((e) => {
      if (!e.active) return;
      this.recent.push(e.tMs);
      if (this.recent.length > 64) this.recent.shift();
    });
  }

  expect(part: number, tPulseMs: number): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      if (!this.recent.some((c) => c >= tPulseMs && c <= tPulseMs + this.withinMs)) {
        this.alarms.raise("reject-unconfirmed", `part ${part}: no confirmation from '${this.station}' within ${this.withinMs} ms of its reject pulse`, { station: this.station, part });
      }
    }, this.withinMs);
    this.timers.add(t);
  }

  stop(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }
}
