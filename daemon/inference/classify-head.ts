import { EdgeError } from "../util/errors.js";
import type { ClassifyHeadSpec } from "./manifest.js";
import type { RawTensor } from "./tensor.js";

/** Class count of a classifier output: [B, C] or [B, C, 1, 1]. */
export function classifyWidth(t: RawTensor): number {
  const [, c, ...rest] = t.dims;
  if (c === undefined || rest.some((d) => d !== 1)) throw new EdgeError("E_MODEL_SHAPE", `classifier output ${JSON.stringify(t.dims)} is not [batch, classes]`);
  return c;
}

/**
 * Scores of image `index` of a batch: the head's activation over the logits,
 * then every class outside the top k set to 0, so only the k strongest
 * classes can ever decide a part.
 */
export function classifyScores(t: RawTensor, index: number, head: ClassifyHeadSpec): number[] {
  const c = classifyWidth(t);
  const logits = Array.from(t.data.subarray(index * c, (index + 1) * c));
  let scores: number[];
  if (head.activation === "softmax") {
    const max = Math.max(...logits);
    const e = logits.map((v) => Math.exp(v - max));
    const sum = e.reduce((a, b) => a + b, 0);
    scores = e.map((v) => v / sum);
  } else if (head.activation === "sigmoid") {
    scores = logits.map((v) => 1 / (1 + Math.exp(-v)));
  } else {
    scores = logits;
  }
  // NaN or Infinity in, NaN out of softmax: such a part has no verdict, whatever the thresholds.
  const bad = scores.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0) throw new EdgeError("E_ENGINE_OUTPUT", `classifier score ${scores[bad]} for class ${bad} (logit ${logits[bad]}): the model's output is not finite`);
  if (head.top_k < c) {
    const kth = [...scores].sort((a, b) => b - a)[head.top_k - 1]!;
    let room = head.top_k;
    scores = scores.map((s) => (s >= kth && room-- > 0 ? s : 0));
  }
  return scores;
}

/** Tiles of one frame: each class scores its best tile. */
export function mergeTileScores(perTile: number[][]): number[] {
  return perTile[0]!.map((_, i) => Math.max(...perTile.map((s) => s[i]!)));
}
