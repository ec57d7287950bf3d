import { EdgeError } from "../util/errors.js";
import type { Finding } from "../pipeline/part.js";
import type { AnomalyOutput, EngineOutput } from "./engine.js";

/**
 * A model or backend that returns garbage must fail its part safe, not
 * produce a verdict: scores must be finite probabilities, one per label, and
 * detections must name a known class with a sane box, an anomaly score and
 * threshold must be probabilities and its map fit its size.
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
    return { kind: "classify", scores: scores as number[], ...anomalyOf(o) };
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
    return { kind: "detect", detections: dets as unknown as Finding[], ...anomalyOf(o) };
  }
  if (o.kind === "anomaly") {
    if (o.anomaly === undefined) throw bad("anomaly output without its anomaly");
    return { kind: "anomaly", anomaly: checkAnomaly(o.anomaly) };
  }
  throw bad(`unknown output kind ${String(o.kind)}`);
}

function anomalyOf(o: Record<string, unknown>): { anomaly?: AnomalyOutput } {
  return o.anomaly === undefined ? {} : { anomaly: checkAnomaly(o.anomaly) };
}

function checkAnomaly(raw: unknown): AnomalyOutput {
  const bad = (why: string) => new EdgeError("E_ENGINE_OUTPUT", `engine output rejected: anomaly: ${why}`);
  const probability = (v: unknown) => typeof v === "number" && v >= 0 && v <= 1;
  if (!raw || typeof raw !== "object") throw bad("not an object");
  const a = raw as Record<string, unknown>;
  if (!probability(a.score)) throw bad(`score ${String(a.score)} is not a probability`);
  if (!probability(a.threshold)) throw bad(`threshold ${String(a.threshold)} is not a probability`);
  const box = a.box;
  if (box !== undefined && (!Array.isArray(box) || box.length !== 4 || !box.every((v) => typeof v === "number" && Number.isFinite(v)))) {
    throw bad("box is not [x, y, w, h]");
  }
  const map = a.map as Record<string, unknown> | undefined;
  if (map !== undefined) {
    const { width: w, height: h, data, transform: t } = map;
    if (!Number.isInteger(w) || !Number.isInteger(h) || (w as number) < 1 || (h as number) < 1) throw bad(`map size ${String(w)}x${String(h)}`);
    if (!(data instanceof Uint8Array) || data.length !== (w as number) * (h as number)) throw bad(`map data is not ${String(w)}x${String(h)} bytes`);
    const keys = ["scaleX", "scaleY", "padX", "padY", "offsetX", "offsetY"];
    if (!t || typeof t !== "object" || !keys.every((k) => Number.isFinite((t as Record<string, unknown>)[k]))) throw bad("map transform is not a set of finite numbers");
  }
  return raw as AnomalyOutput;
}
