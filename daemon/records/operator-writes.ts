import type Database from "better-sqlite3";
import type { AckResult, OperatorVerdict } from "./review.js";

/**
 * Operator verdicts and alarm acknowledgements, as the writer thread makes
 * them: each in a transaction of its own, committed (FULL sync) before the
 * operator is told so.
 */
export function operatorWrites(db: Database.Database) {
  const rejected = db.prepare("SELECT 1 FROM inspections WHERE id = ? AND outcome = 'rejected'");
  const verdict = db.prepare(
    `INSERT INTO operator_verdicts (inspection_id, verdict, operator, time_ms) VALUES (?, ?, ?, ?)
     ON CONFLICT (inspection_id) DO UPDATE SET verdict = excluded.verdict, operator = excluded.operator, time_ms = excluded.time_ms`,
  );
  const alarm = db.prepare("SELECT active FROM alarms WHERE id = ?");
  const ack = db.prepare("INSERT INTO alarm_acks (alarm_id, operator, time_ms) VALUES (?, ?, ?) ON CONFLICT (alarm_id) DO NOTHING");
  return {
    /** false when there is no rejected part with this id. */
    setVerdict: db.transaction((id: number, v: OperatorVerdict, operator: string): boolean => {
      if (!rejected.get(id)) return false;
      verdict.run(id, v, operator, Date.now());
      return true;
    }),
    ackAlarm: db.transaction((id: number, operator: string): AckResult => {
      const a = alarm.get(id) as { active: number } | undefined;
      if (!a) return "missing";
      if (a.active !== 1) return "cleared";
      ack.run(id, operator, Date.now());
      return "ok";
    }),
  };
}
