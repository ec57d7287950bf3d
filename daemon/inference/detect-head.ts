import { EdgeError } from "../util/errors.js";
import type { InputTransform } from "../vision/preprocess.js";
import type { DetectHeadSpec } from "./manifest.js";
import { nms } from "./nms.js";
import type { Detection, RawTensor } from "./tensor.js";

/**
 * Detection outputs of the common export layouts, decoded to boxes in
 * model-input pixels:
 *   yolov5  [B, N, 5 + C]  cx, cy, w, h, objectness, class scores (score = obj * cls)
 *   yolov8  [B, 4 + C, N]  cx, cy, w, h, class scores (YOLOv8 / YOLO11 export)
 *   ssd     boxes [B, N, 4] corners (xyxy or yxyx, fractions of the input when
 *           normalized) and scores [B, N, C] (C + 1 with a leading background)
 * Each box keeps its best class; boxes under `conf` are dropped. A NaN
 * would be dropped too (it is never >= conf) and the part would pass: any
 * non-finite value a decision reads is E_ENGINE_OUTPUT instead.
 */
export function decodeDetections(outputs: RawTensor[], index: number, head: DetectHeadSpec, classes: number, inputHW: [number, number]): Detection[] {
  checkDetectShape(outputs, head, classes);
  const out: Detection[] = [];
  const push = (x1: number, y1: number, x2: number, y2: number, cls: number, score: number) => {
    if (!Number.isFinite(score)) throw notFinite("score", score);
    if (score < head.conf) return;
    for (const v of [x1, y1, x2, y2]) if (!Number.isFinite(v)) throw notFinite("box coordinate", v);
    out.push({ box: [x1, y1, x2, y2], cls, score });
  };
  if (head.layout === "yolov5") {
    const t = outputs[0]!;
    const [, n, stride] = t.dims as [number, number, number];
    const base = index * n * stride;
    for (let i = 0; i < n; i++) {
      const o = base + i * stride;
      const obj = t.data[o + 4]!;
      if (!Number.isFinite(obj)) throw notFinite("objectness", obj);
      if (obj < head.conf) continue;
      const [cls, s] = best(t.data, o + 5, 1, classes);
      const [cx, cy, w, h] = [t.data[o]!, t.data[o + 1]!, t.data[o + 2]!, t.data[o + 3]!];
      push(cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2, cls, obj * s);
    }
  } else if (head.layout === "yolov8") {
    const t = outputs[0]!;
    const [, rows, n] = t.dims as [number, number, number];
    const base = index * rows * n;
    const at = (r: number, i: number) => t.data[base + r * n + i]!;
    for (let i = 0; i < n; i++) {
      const [cls, s] = best(t.data, base + 4 * n + i, n, classes);
      const [cx, cy, w, h] = [at(0, i), at(1, i), at(2, i), at(3, i)];
      push(cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2, cls, s);
    }
  } else {
    const [boxes, scores] = outputs as [RawTensor, RawTensor];
    const n = boxes.dims[1]!;
    const width = scores.dims[2]!;
    const skip = head.background ? 1 : 0;
    const [H, W] = inputHW;
    const [sx, sy] = head.normalized ? [W, H] : [1, 1];
    for (let i = 0; i < n; i++) {
      const b = (index * n + i) * 4;
      const [cls, s] = best(scores.data, (index * n + i) * width + skip, 1, classes);
      const v = boxes.data;
      const [x1, y1, x2, y2] = head.box_format === "xyxy" ? [v[b]!, v[b + 1]!, v[b + 2]!, v[b + 3]!] : [v[b + 1]!, v[b]!, v[b + 3]!, v[b + 2]!];
      push(x1 * sx, y1 * sy, x2 * sx, y2 * sy, cls, s);
    }
  }
  return out;
}

function notFinite(what: string, v: number): EdgeError {
  return new EdgeError("E_ENGINE_OUTPUT", `detector ${what} ${v}: the model's output is not finite`);
}

function best(data: Float32Array, start: number, step: number, count: number): [number, number] {
  let cls = 0;
  let score = -Infinity;
  for (let c = 0; c < count; c++) {
    const v = data[start + c * step]!;
    if (!Number.isFinite(v)) throw notFinite("class score", v);
    if (v > score) {
      score = v;
      cls = c;
    }
  }
  return [cls, score];
}

/** A model whose output cannot hold the manifest's classes is refused at load (E_MODEL_LABELS / E_MODEL_SHAPE). */
export function checkDetectShape(outputs: RawTensor[], head: DetectHeadSpec, classes: number): void {
  const shape = (i: number) => JSON.stringify(outputs[i]?.dims);
  const need = head.layout === "ssd" ? 2 : 1;
  if (outputs.length < need) throw new EdgeError("E_MODEL_SHAPE", `${head.layout} head needs ${need} output(s), the model has ${outputs.length}`);
  if (outputs.slice(0, need).some((o) => o.dims.length !== 3)) throw new EdgeError("E_MODEL_SHAPE", `${head.layout} outputs must be 3-D, got ${shape(0)}`);
  const labels = (got: number, want: number, what: string) => {
    if (got !== want) throw new EdgeError("E_MODEL_LABELS", `${head.layout} output ${what} is ${got}, the manifest's ${classes} labels need ${want}`);
  };
  if (head.layout === "yolov5") labels(outputs[0]!.dims[2]!, 5 + classes, `width ${shape(0)}`);
  else if (head.layout === "yolov8") labels(outputs[0]!.dims[1]!, 4 + classes, `rows ${shape(0)}`);
  else {
    if (outputs[0]!.dims[2] !== 4 || outputs[0]!.dims[1] !== outputs[1]!.dims[1]) {
      throw new EdgeError("E_MODEL_SHAPE", `ssd boxes ${shape(0)} and scores ${shape(1)} do not pair up as [B, N, 4] and [B, N, C]`);
    }
    labels(outputs[1]!.dims[2]!, classes + (head.background ? 1 : 0), `width ${shape(1)}`);
  }
}

/** Input-pixel boxes of one tile to frame pixels, clipped to the tile's region. */
export function toFrame(dets: Detection[], t: InputTransform, region: { w: number; h: number }): Detection[] {
  const fx = (x: number) => Math.min(region.w, Math.max(0, (x - t.padX) / t.scaleX)) + t.offsetX;
  const fy = (y: number) => Math.min(region.h, Math.max(0, (y - t.padY) / t.scaleY)) + t.offsetY;
  return dets.map((d) => ({ cls: d.cls, score: d.score, box: [fx(d.box[0]), fy(d.box[1]), fx(d.box[2]), fy(d.box[3])] }));
}

/** Per-tile NMS first (cheap, bounded), then once more across tiles so overlaps count once. */
export function mergeTiles(perTile: Detection[][], head: DetectHeadSpec): Detection[] {
  return nms(perTile.flatMap((d) => nms(d, head.iou, head.max_det)), head.iou, head.max_det);
}
