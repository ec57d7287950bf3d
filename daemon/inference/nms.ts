import type { Detection } from "./tensor.js";

export function iou(a: Detection["box"], b: Detection["box"]): number {
  const iw = Math.min(a[2], b[2]) - Math.max(a[0], b[0]);
  const ih = Math.min(a[3], b[3]) - Math.max(a[1], b[1]);
  if (iw <= 0 || ih <= 0) return 0;
  const inter = iw * ih;
  const union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter;
  return union > 0 ? inter / union : 0;
}

/**
 * Class-aware greedy non-maximum suppression: strongest first, a box is
 * dropped when it overlaps a kept box of the same class by more than
 * `iouThreshold`. Keeps at most `maxDet`.
 */
export function nms(dets: Detection[], iouThreshold: number, maxDet: number): Detection[] {
  const sorted = [...dets].sort((a, b) => b.score - a.score);
  const kept: Detection[] = [];
  for (const d of sorted) {
    if (kept.length >= maxDet) break;
    if (kept.every((k) => k.cls !== d.cls || iou(k.box, d.box) <= iouThreshold)) kept.push(d);
  }
  return kept;
}
