import { cv } from "../vision/opencv.js";

/** A point in part or frame coordinates. */
export type Pt = [number, number];
/** [x, y, w, h] in frame pixels. */
export type Box = [number, number, number, number];

/** Even-odd ray casting: is `p` inside the closed polygon `poly`? */
export function inPolygon(p: Pt, poly: Pt[]): boolean {
  let inside = false;
  for (let i = 0, j = poly.length - 1; i < poly.length; j = i++) {
    const [xi, yi] = poly[i]!;
    const [xj, yj] = poly[j]!;
    if (yi > p[1] !== yj > p[1] && p[0] < ((xj - xi) * (p[1] - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

export function pt(p: Pt) {
  return new cv.Point2(Math.round(p[0]), Math.round(p[1]));
}

export function gray(v: number) {
  return new cv.Vec3(v, v, v);
}

export function bbox(pts: Pt[], pad: number): Box {
  const xs = pts.map((p) => p[0]);
  const ys = pts.map((p) => p[1]);
  const x0 = Math.floor(Math.min(...xs) - pad);
  const y0 = Math.floor(Math.min(...ys) - pad);
  return [x0, y0, Math.ceil(Math.max(...xs) + pad) - x0, Math.ceil(Math.max(...ys) + pad) - y0];
}

export function clipBox(b: Box, w: number, h: number): Box {
  return intersectBox(b, [0, 0, w, h]);
}

export function intersectBox(a: Box, b: Box): Box {
  const x0 = Math.max(a[0], b[0]);
  const y0 = Math.max(a[1], b[1]);
  const x1 = Math.min(a[0] + a[2], b[0] + b[2]);
  const y1 = Math.min(a[1] + a[3], b[1] + b[3]);
  return [x0, y0, Math.max(0, x1 - x0), Math.max(0, y1 - y0)];
}
