import type { Logger } from "../util/log.js";
import { nowMs } from "../util/clock.js";

export const ALARM_CODES = ["escaped", "reject-unconfirmed", "bin-full", "bin-cleared", "line-stopped", "line-released"] as const;
export type AlarmCode = (typeof ALARM_CODES)[number];

export interface Alarm {
  code: AlarmCode;
  /** The reject station (bin) concerned. */
  station?: string;
  part?: number;
  detail: string;
  tMs: number;
}

/**
 * Conditions an operator must see: each is logged, counted and handed to
 * every listener (the publisher sends them to the plant).
 */
export class Alarms {
  readonly counts = Object.fromEntries(ALARM_CODES.map((c) => [c, 0])) as Record<AlarmCode, number>;
  private readonly listeners: Array<(a: Alarm) => void> = [];

  constructor(private readonly log: Logger) {}

  on(listener: (a: Alarm) => void): void {
    this.listeners.push(listener);
  }

  raise(code: AlarmCode, detail: string, where: { station?: string; part?: number } = {}): void {
    const alarm: Alarm = { code, ...where, detail, tMs: nowMs() };
    this.counts[code]++;
    if (code === "bin-cleared" || code === "line-released") this.log.info({ alarm: code, ...where }, detail);
    else this.log.error({ alarm: code, ...where }, detail);
    for (const l of this.listeners) {
      try {
        l(alarm);
      } catch (err) {
        this.log.error({ err, alarm: code }, "an alarm listener failed");
      }
    }
  }
}
