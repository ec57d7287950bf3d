/**
 * A condition an operator must see: raised by the store (disk full, backlog
 * dropped...), the publisher, the review server or the line's actuation
 * (escapes, full bins...); cleared by an alarm of the same code with
 * active=false, or by a clearing code (actuation/alarms.ts). Recorded in the
 * alarms table and published as it is; `station` and `part` say where on the
 * line and go to the log only.
 */
export interface Alarm {
  /** A station error code (util/error-codes.ts) or an actuation alarm code (actuation/alarms.ts). */
  code: string;
  message: string;
  active: boolean;
  /** Wall-clock epoch milliseconds. */
  timeMs: number;
  /** The reject station (bin) concerned. */
  station?: string;
  part?: number;
}
