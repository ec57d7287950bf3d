import { CLEARING_CODES } from "../../actuation/alarms.js";
import type { Alarm } from "../../util/alarm.js";

const CLEARS: Record<string, string | undefined> = CLEARING_CODES;

/**
 * The alarms raised and not cleared since the station started, by code: a
 * condition (disk refusing writes, a full bin, a held line) until it is
 * cleared, an event (an escaped part, a refused publish) until the restart
 * that acknowledges it.
 */
export class ActiveAlarms {
  private readonly active = new Set<string>();

  note(a: Pick<Alarm, "code" | "active">): void {
    const cleared = CLEARS[a.code];
    if (cleared) this.active.delete(cleared);
    else if (a.active) this.active.add(a.code);
    else this.active.delete(a.code);
  }

  codes(): string[] {
    return [...this.active].sort();
  }
}
