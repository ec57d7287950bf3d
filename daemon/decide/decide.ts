import type { EngineOutput } from "../inference/engine.js";
import type { Finding, Judgement } from "../pipeline/part.js";

export interface DecideSettings {
  okLabel: string;
  /** Default score a defect class must reach to reject. */
  threshold: number;
  /** Per-class overrides of `threshold`. */
  thresholds: Record<string, number>;
}

/**
 * Engine output + thresholds → verdict with reasons. Pure: no clock, no I/O.
 * A part is rejected when any defect class reaches its threshold; the
 * findings list every such class, strongest first.
 */
export function decide(output: EngineOutput, labels: readonly string[], s: DecideSettings): Judgement {
  const candidates: Finding[] =
    output.kind === "classify"
      ? output.scores.map((score, i) => ({ class: labels[i]!, score }))
      : output.detections;
  const over = candidates
    .filter((f) => f.class !== s.okLabel && f.score >= (s.thresholds[f.class] ?? s.threshold))
    .sort((a, b) => b.score - a.score);
  if (over.length > 0) return { verdict: "reject", findings: over };
  const best = candidates.filter((f) => f.class === s.okLabel).sort((a, b) => b.score - a.score)[0];
  return { verdict: "pass", findings: best ? [best] : [] };
}
