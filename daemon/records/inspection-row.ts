import { wallTime } from "../util/clock.js";
import type { SettledPart } from "../pipeline/part.js";
import type { OutboxMessage } from "./store.js";

/** One inspection as it crosses to the writer thread: plain, structured-clonable data. */
export interface InspectionRow {
  partId: number;
  line: string;
  triggeredAt: string;
  settledAt: string;
  timeMs: number;
  outcome: "accepted" | "rejected";
  verdict: string;
  reason: string;
  failsafe: string | null;
  detail: string | null;
  captureMs: number | null;
  preprocessMs: number | null;
  inferMs: number | null;
  decideMs: number | null;
  totalMs: number | null;
  /** How late the reject pulse started against its deadline. */
  pulseLateMs: number | null;
  modelVersion: string;
  defects: Array<{ class: string; score: number; box: [number, number, number, number] | null }>;
  outbox: OutboxMessage[];
  snapshot: Uint8Array | null;
}

export function inspectionRow(p: SettledPart, outbox: OutboxMessage[], snapshot?: Uint8Array): InspectionRow {
  const triggered = wallTime(p.tTriggerMs);
  const s = p.stages;
  return {
    partId: p.id,
    line: p.line,
    triggeredAt: triggered.toISOString(),
    settledAt: wallTime(p.tSettledMs).toISOString(),
    timeMs: triggered.getTime(),
    outcome: p.outcome,
    verdict: p.judgement.verdict,
    reason: p.reason,
    failsafe: p.judgement.failsafe ?? null,
    detail: p.judgement.detail ?? null,
    captureMs: s.capture ?? null,
    preprocessMs: s.preprocess ?? null,
    inferMs: s.infer ?? null,
    decideMs: s.decide ?? null,
    totalMs: s.total ?? null,
    pulseLateMs: p.tPulseMs === undefined ? null : p.tPulseMs - p.ejectAtMs,
    modelVersion: p.modelVersion,
    defects: p.outcome === "rejected" ? p.judgement.findings.map((f) => ({ class: f.class, score: f.score, box: f.box ?? null })) : [],
    outbox,
    snapshot: snapshot ?? null,
  };
}
