import { cv } from "../vision/opencv.js";
import type { InputTransform } from "../vision/preprocess.js";
import { EdgeError } from "../util/errors.js";
import type { AnomalyOutput } from "./engine.js";
import type { AnomalyHeadSpec } from "./manifest.js";
import type { RawTensor } from "./tensor.js";

/** The anomaly model's two outputs, found by name. */
export interface AnomalyTensors {
  score: RawTensor;
  map: RawTensor;
}

/**
 * Picks the anomaly model's outputs by the manifest's names and checks their
 * shapes: the score [B, 1] (or [B]), the map [B, 1, H, W] at the model
 * input's resolution. Anything else is E_MODEL_SHAPE, at load.
 */
export function anomalyTensors(outputs: RawTensor[], names: readonly string[], spec: AnomalyHeadSpec, inputHW: [number, number]): AnomalyTensors {
  const pick = (name: string, what: string) => {
    const i = names.indexOf(name);
    if (i < 0 || !outputs[i]) throw new EdgeError("E_MODEL_SHAPE", `anomaly model: no ${what} output '${name}' (outputs: ${names.join(", ")})`);
    return outputs[i]!;
  };
  const score = pick(spec.score_output, "score");
  const map = pick(spec.map_output, "map");
  const [b, ...rest] = score.dims;
  if (b === undefined || rest.some((d) => d !== 1)) throw new EdgeError("E_MODEL_SHAPE", `anomaly score output ${JSON.stringify(score.dims)} is not [batch, 1]`);
  const [H, W] = inputHW;
  const [mb, c, h, w] = map.dims;
  if (map.dims.length !== 4 || mb !== b || c !== 1 || h !== H || w !== W) {
    throw new EdgeError("E_MODEL_SHAPE", `anomaly map output ${JSON.stringify(map.dims)} is not [${b}, 1, ${H}, ${W}]: one channel at the input's resolution`);
  }
  return { score, map };
}

/**
 * The anomaly head's verdict material for image `index` of a batch: its
 * score, and when that reaches the threshold, the map (as bytes) and the box
 * of its peak region (the map pixels connected to the peak that reach half
 * its value) in frame pixels. OpenCV does the per-pixel work.
 */
export function anomalyOf(t: AnomalyTensors, index: number, spec: AnomalyHeadSpec, transform: InputTransform): AnomalyOutput {
  const score = t.score.data[index]!;
  if (!Number.isFinite(score) || score < 0 || score > 1) {
    throw new EdgeError("E_ENGINE_OUTPUT", `anomaly score ${score}: the model's output is not a probability`);
  }
  const out: AnomalyOutput = { score, threshold: spec.threshold };
  if (score < spec.threshold) return out;
  const [, , h, w] = t.map.dims as [number, number, number, number];
  const plane = t.map.data.subarray(index * h * w, (index + 1) * h * w);
  const map = new cv.Mat(Buffer.from(plane.buffer, plane.byteOffset, plane.byteLength), h, w, cv.CV_32FC1);
  try {
    const { maxVal, maxLoc } = map.minMaxLoc();
    if (!Number.isFinite(maxVal)) throw new EdgeError("E_ENGINE_OUTPUT", `anomaly map peak ${maxVal}: the model's output is not finite`);
    const bytes = map.convertTo(cv.CV_8U, 255);
    const region = map.threshold(maxVal / 2, 1, cv.THRESH_BINARY);
    const region8 = region.convertTo(cv.CV_8U);
    const { labels, stats, centroids } = region8.connectedComponentsWithStats(8, cv.CV_32S);
    // A flat map (peak 0) has no region above half of it: the peak pixel is the box.
    const label = labels.at(maxLoc.y, maxLoc.x);
    const [x, y, bw, bh] = label > 0 ? [0, 1, 2, 3].map((k) => stats.at(label, k)) : [maxLoc.x, maxLoc.y, 1, 1];
    out.box = [(x! - transform.padX) / transform.scaleX + transform.offsetX, (y! - transform.padY) / transform.scaleY + transform.offsetY, bw! / transform.scaleX, bh! / transform.scaleY];
    out.map = { width: w, height: h, data: new Uint8Array(bytes.getData()), transform: { ...transform } };
    for (const m of [bytes, region, region8, labels, stats, centroids]) m.release();
    return out;
  } finally {
    map.release();
  }
}
