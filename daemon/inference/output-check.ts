import { EdgeError } from "../util/errors.js";
import type { Finding } from "../pipeline/part.js";
import type { EngineOutput } from "./engine.js";

/**
 * A model or backend that returns garbage must fail its part safe, not
 * produce a verdict: scores must be finite probabilities, one per label, and
 * detections must name a known class with a sane box.
 */
export function checkOutput(output: unknown, labels: readonly string[]): EngineOutput {
  const bad = (why: string) => new EdgeError("E_ENGINE_OUTPUT", `engine output rejected: ${why}`);
  if (!output || typeof output !== "object") throw bad("not an object");
  const o = output as Record<string, unknown>;
  if (o.kind === "classify") {
    const scores = o.scores;
    if (!Array.isArray(scores)) throw bad("scores is not an array");
    if (scores.length !== labels.length) throw bad(`${scores.length} scores for ${labels.length} labels`);
    for (const s of scores) {
      if (typeof s !== "number" || !Number.isFinite(s) || s < 0 || s > 1) throw bad(`score ${String(s)} is not a probability`);
    }
    return { kind: "classify", scores: scores as number[] };
  }
  if (o.kind === "detect") {
    const dets = o.detections;
    if (!Array.isArray(dets)) throw bad("detections is not an array");
    for (const d of dets as Record<string, unknown>[]) {
      if (typeof d?.class !== "string" || !labels.includes(d.class)) throw bad(`unknown class ${String(d?.class)}`);
      if (typeof d.score !== "number" || !(d.score >= 0 && d.score <= 1)) throw bad(`score ${String(d.score)} is not a probability`);
      const box = d.box;
      if (box !== undefined && (!Array.isArray(box) || box.length !== 4 || !box.every((v) => typeof v === "number" && Number.isFinite(v)))) {
        throw bad("box is not [x, y, w, h]");
      }
    }
    return { kind: "detect", detections: dets as unknown as Finding[] };
  }
  throw bad(`unknown output kind ${String(o.kind)}`);
}
