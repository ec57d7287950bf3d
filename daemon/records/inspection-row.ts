import { wallTime } from "../util/clock.js";
import type { SettledPart } from "../pipeline/part.js";
import type { OutboxMessage } from "./store.js";

/** One view's verdict on a part: its strongest finding, or why it has none. */
export interface ViewRow {
  view: string;
  verdict: string;
  class: string | null;
  score: number | null;
  failsafe: string | null;
  detail: string | null;
  frameSeq: number | null;
  modelVersion: string | null;
}

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
  defects: Array<{ class: string; score: number; box: [number, number, number, number] | null; view: string | null }>;
  /** Each view's verdict, for a part seen by several cameras; empty otherwise. */
  views: ViewRow[];
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
    defects: p.outcome === "rejected" ? p.judgement.findings.map((f) => ({ class: f.class, score: f.score, box: f.box ?? null, view: f.view ?? null })) : [],
    views: (p.judgement.views ?? []).map((v) => ({
      view: v.view,
      verdict: v.verdict,
      class: v.findings[0]?.class ?? null,
      score: v.findings[0]?.score ?? null,
      failsafe: v.failsafe ?? null,
      detail: v.detail ?? null,
      frameSeq: v.frameSeq ?? null,
      modelVersion: v.modelVersion ?? null,
    })),
    outbox,
    snapshot: snapshot ?? null,
  };
}
