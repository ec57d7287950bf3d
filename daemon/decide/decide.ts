import { ANOMALY_CLASS, type EngineOutput } from "../inference/engine.js";
import { EdgeError } from "../util/errors.js";
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
 * A score that is not a number (NaN compares false with every threshold, so
 * it would pass) gives no verdict: E_ENGINE_OUTPUT, and the part fails safe.
 * An anomaly head rejects the part too when its score reaches its own
 * threshold: a finding of class `anomaly` (after the classes', which name a
 * known defect) with the box of the map's peak region, and the map.
 */
export function decide(output: EngineOutput, labels: readonly string[], s: DecideSettings): Judgement {
  const candidates: Finding[] =
    output.kind === "classify"
      ? output.scores.map((score, i) => ({ class: labels[i]!, score }))
      : output.kind === "detect"
        ? output.detections
        : [];
  const bad = candidates.find((f) => !Number.isFinite(f.score));
  if (bad) throw new EdgeError("E_ENGINE_OUTPUT", `score ${String(bad.score)} for class ${bad.class}: no verdict from a non-finite score`);
  const over = candidates
    .filter((f) => f.class !== s.okLabel && f.score >= (s.thresholds[f.class] ?? s.threshold))
    .sort((a, b) => b.score - a.score);
  const a = output.anomaly;
  if (a && !(Number.isFinite(a.score) && Number.isFinite(a.threshold))) {
    throw new EdgeError("E_ENGINE_OUTPUT", `anomaly score ${String(a.score)} (threshold ${String(a.threshold)}): no verdict from a non-finite score`);
  }
  if (a && a.score >= a.threshold) {
    const finding: Finding = { class: ANOMALY_CLASS, score: a.score, ...(a.box ? { box: a.box } : {}) };
    return { verdict: "reject", findings: [...over, finding], ...(a.map ? { heatmap: a.map } : {}) };
  }
  if (over.length > 0) return { verdict: "reject", findings: over };
  const best = candidates.filter((f) => f.class === s.okLabel).sort((a, b) => b.score - a.score)[0];
  return { verdict: "pass", findings: best ? [best] : [] };
}
