import type { InputLine } from "./gpio.js";
import type { Alarms } from "./alarms.js";
import type { LineStop } from "./line-stop.js";

/**
 * Bin-full sensors of the reject bins. A full bin raises an alarm and, where
 * a line-stop output is wired, stops the conveyor until every bin is clear:
 * rejects into a full bin would land on the floor or back on the belt.
 */
export class BinMonitor {
  private readonly full = new Set<string>();

  constructor(
    private readonly alarms: Alarms,
    private readonly lineStop: LineStop,
  ) {}

  watch(station: string, input: InputLine): void {
    input.watch((e) => this.update(station, e.active));
    if (input.read()) this.update(station, true);
  }

  isFull(station: string): boolean {
    return this.full.has(station);
  }

  private update(station: string, full: boolean): void {
    if (full === this.full.has(station)) return;
    if (full) {
      this.full.add(station);
      this.alarms.raise("bin-full", `reject bin of '${station}' is full${this.lineStop.wired ? ": line stopped" : ""}`, { station });
    } else {
      this.full.delete(station);
      this.alarms.raise("bin-cleared", `reject bin of '${station}' is clear`, { station });
    }
    if (full) this.lineStop.hold(`bin-full:${station}`);
    else this.lineStop.release(`bin-full:${station}`);
  }
}
