import type { Alarm } from "../util/alarm.js";
import type { Logger } from "../util/log.js";

export const ALARM_CODES = ["escaped", "reject-unconfirmed", "bin-full", "bin-cleared", "line-stopped", "line-released"] as const;
export type AlarmCode = (typeof ALARM_CODES)[number];

/** Codes that end another alarm's condition rather than raise one of their own. */
export const CLEARING_CODES: Partial<Record<AlarmCode, AlarmCode>> = { "bin-cleared": "bin-full", "line-released": "line-stopped" };

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

  raise(code: AlarmCode, message: string, where: { station?: string; part?: number } = {}): void {
    const clearing = CLEARING_CODES[code] !== undefined;
    const alarm: Alarm = { code, message, active: !clearing, timeMs: Date.now(), ...where };
    this.counts[code]++;
    if (clearing) this.log.info({ alarm: code, ...where }, message);
    else this.log.error({ alarm: code, ...where }, message);
    for (const l of this.listeners) {
      try {
        l(alarm);
      } catch (err) {
        this.log.error({ err, alarm: code }, "an alarm listener failed");
      }
    }
  }
}
