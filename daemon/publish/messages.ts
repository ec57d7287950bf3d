import { wallTime } from "../util/clock.js";
import type { SettledPart } from "../pipeline/part.js";
import type { OutboxMessage } from "../records/store.js";
import { topic, type StationId } from "./topics.js";

/**
 * The `defects` message for a rejected part. Its id is stable (run + part),
 * so a redelivery after a broker outage or a restart is recognisable.
 */
export function defectMessage(station: StationId, runId: string, p: SettledPart, snapshot: string | null = null): OutboxMessage {
  const id = `${station.device}:${runId}:${p.id}`;
  const payload = {
    id,
    part: p.id,
    time: wallTime(p.tTriggerMs).toISOString(),
    reason: p.reason,
    failsafe: p.judgement.failsafe ?? null,
    classes: p.judgement.findings.map((f) => f.class),
    scores: p.judgement.findings.map((f) => round4(f.score)),
    boxes: p.judgement.findings.map((f) => f.box ?? null),
    model_version: p.modelVersion,
    latency_ms: p.stages.total === undefined ? null : round4(p.stages.total),
    snapshot,
    // A part seen by several cameras: which view saw each class, and each view's own verdict.
    ...(p.judgement.views && {
      seen_by: p.judgement.findings.map((f) => f.view ?? null),
      views: p.judgement.views.map((v) => ({ view: v.view, verdict: v.verdict, class: v.findings[0]?.class ?? null, score: v.findings[0] ? round4(v.findings[0].score) : null, failsafe: v.failsafe ?? null })),
    }),
  };
  return { id, topic: topic(station, "defects"), payload: JSON.stringify(payload), qos: 1 };
}

function round4(v: number): number {
  return Math.round(v * 1e4) / 1e4;
}
