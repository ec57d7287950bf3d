import { cv, replaceMat, type Mat } from "../vision/opencv.js";
import { bbox, clipBox, gray, inPolygon, intersectBox, pt, type Box, type Pt } from "./part-geometry.js";
import type { NovelDefect } from "./novel-kinds.js";

/*
 * The novel defect kinds, each drawn unlike the trained classes (scratch,
 * crack, stain, missing_hole): a soft shaded dent, a bite out of the edge, a
 * coloured foreign object, a tinted patch of finish, the wrong part.
 */

/** A part's shape in part coordinates: outline, hole centres, hole radius. */
export interface PartGeometry {
  outline: Pt[];
  holes: Pt[];
  holeR: number;
}

/** The part as the line drew it, in part coordinates, and how they map to the frame. */
export interface DrawnPart extends PartGeometry {
  size: number;
  /** Grey level of the part before lighting. */
  shade: number;
  belt: number;
  /** Part coordinates to frame pixels. */
  toFrame: (p: Pt) => Pt;
  /** A point on the part clear of holes and edges, in part coordinates. */
  pointOnPart: () => Pt;
}

/** Antialiased edges and the line's focus blur reach this far past a drawn shape. */
const EDGE_PAD = 3;

/**
 * The wrong part where the right one belongs: a mirrored bracket (the other
 * hand), or a plate or disc of another variant, with oversized holes. Changes
 * the geometry the line then draws; the box holds both the right part's shape
 * and the wrong one's.
 */
export function wrongPart(partType: string, g: PartGeometry, toFrame: (p: Pt) => Pt): PartGeometry & { box: Box } {
  if (partType === "bracket") {
    const mirror = ([x, y]: Pt): Pt => [-x, y];
    const outline = g.outline.map(mirror);
    return { outline, holes: g.holes.map(mirror), holeR: g.holeR, box: bbox([...g.outline, ...outline].map(toFrame), EDGE_PAD) };
  }
  const holeR = g.holeR * 1.5;
  // Rotated, a hole's square extent is no longer axis-aligned: box all four corners.
  const corners = g.holes.flatMap(([x, y]): Pt[] => [[x - holeR, y - holeR], [x + holeR, y - holeR], [x - holeR, y + holeR], [x + holeR, y + holeR]]);
  return { outline: g.outline, holes: g.holes, holeR, box: bbox(corners.map(toFrame), EDGE_PAD) };
}

/** Draws `kind` on `img` (before lighting and noise) and returns the box of every pixel it changed. */
export function drawNovelDefect(img: Mat, kind: Exclude<NovelDefect, "wrong_part">, part: DrawnPart, rnd: () => number): Box {
  switch (kind) {
    case "dent":
      return drawDent(img, part, rnd);
    case "chipped_edge":
      return drawChip(img, part, rnd);
    case "foreign_object":
      return drawForeignObject(img, part, rnd);
    case "discoloration":
      return drawDiscoloration(img, part, rnd);
  }
}

/** A shallow dent: shadow on one side, highlight on the other, soft edges, no outline. */
function drawDent(img: Mat, p: DrawnPart, rnd: () => number): Box {
  const c = p.toFrame(p.pointOnPart());
  const r = p.size * (0.06 + rnd() * 0.03);
  const light = rnd() * Math.PI * 2;
  const off: Pt = [Math.cos(light) * r * 0.35, Math.sin(light) * r * 0.35];
  const layer = img.copy();
  layer.drawCircle(pt([c[0] - off[0], c[1] - off[1]]), Math.round(r * 0.75), gray(p.shade * 0.68), -1, cv.LINE_AA);
  layer.drawCircle(pt([c[0] + off[0], c[1] + off[1]]), Math.round(r * 0.6), gray(Math.min(255, p.shade * 1.18)), -1, cv.LINE_AA);
  const k = oddAtLeast3(r * 0.5);
  const soft = replaceMat(layer, layer.gaussianBlur(new cv.Size(k, k), 0));
  const mask = blankMask(img);
  mask.drawCircle(pt(c), Math.round(r), new cv.Vec3(255, 255, 255), -1, cv.LINE_8);
  soft.copyTo(img, mask).release();
  soft.release();
  mask.release();
  return bbox([[c[0] - r, c[1] - r], [c[0] + r, c[1] + r]], EDGE_PAD);
}

/** A bite out of the part's edge, showing the belt through it. */
function drawChip(img: Mat, p: DrawnPart, rnd: () => number): Box {
  // An edge point, segments picked by length so a disc's 48 short sides are no likelier than a plate's 4.
  const segs = p.outline.map((a, i) => [a, p.outline[(i + 1) % p.outline.length]!] as const);
  const lengths = segs.map(([a, b]) => Math.hypot(b[0] - a[0], b[1] - a[1]));
  let pick = rnd() * lengths.reduce((s, l) => s + l, 0);
  let seg = 0;
  while (seg < segs.length - 1 && pick > lengths[seg]!) pick -= lengths[seg++]!;
  const [a, b] = segs[seg]!;
  const len = lengths[seg]!;
  const t = 0.25 + rnd() * 0.5;
  const e: Pt = [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t];
  const along: Pt = [(b[0] - a[0]) / len, (b[1] - a[1]) / len];
  let inward: Pt = [-along[1], along[0]];
  if (!inPolygon([e[0] + inward[0] * 2, e[1] + inward[1] * 2], p.outline)) inward = [-inward[0], -inward[1]];
  const halfWidth = p.size * (0.05 + rnd() * 0.04);
  const depth = p.size * (0.05 + rnd() * 0.04);
  const at = (u: number, v: number): Pt => [e[0] + along[0] * u + inward[0] * v, e[1] + along[1] * u + inward[1] * v];
  // Starts a little outside the edge so the bite meets the belt along a curved (disc) outline too.
  const outside = -2;
  const bite = [
    at(-halfWidth, outside),
    at(-halfWidth * (0.5 + rnd() * 0.3), depth * (0.4 + rnd() * 0.4)),
    at((rnd() - 0.5) * halfWidth * 0.6, depth),
    at(halfWidth * (0.5 + rnd() * 0.3), depth * (0.4 + rnd() * 0.4)),
    at(halfWidth, outside),
  ].map(p.toFrame);
  img.drawFillPoly([bite.map(pt)], gray(p.belt), cv.LINE_AA);
  return bbox(bite, EDGE_PAD);
}

/** Coloured debris on the part (a chip of plastic, a label, tape) with its shadow. */
function drawForeignObject(img: Mat, p: DrawnPart, rnd: () => number): Box {
  const c = p.pointOnPart();
  const r = p.size * (0.05 + rnd() * 0.04);
  const turn = rnd() * Math.PI * 2;
  const shape: Pt[] = Array.from({ length: 6 }, (_, i) => {
    const a = turn + (i / 6) * Math.PI * 2 + (rnd() - 0.5) * 0.6;
    const rr = r * (0.55 + rnd() * 0.45);
    return [c[0] + Math.cos(a) * rr, c[1] + Math.sin(a) * rr * 0.7] as Pt;
  });
  const body = shape.map(p.toFrame);
  const shadowOffset = Math.max(2, p.size * 0.02);
  const shadow = body.map(([x, y]) => [x + shadowOffset, y + shadowOffset] as Pt);
  const colour = FOREIGN_COLOURS[Math.floor(rnd() * FOREIGN_COLOURS.length)]!;
  img.drawFillPoly([shadow.map(pt)], gray(p.shade * 0.6), cv.LINE_AA);
  img.drawFillPoly([body.map(pt)], new cv.Vec3(...colour), cv.LINE_AA);
  return bbox([...body, ...shadow], EDGE_PAD);
}

/** Saturated BGR colours of debris a metal part does not have. */
const FOREIGN_COLOURS: [number, number, number][] = [
  [200, 110, 30],
  [30, 130, 235],
  [60, 175, 60],
  [50, 40, 200],
];

/**
 * A patch of changed finish (heat tint, missing coating): the colour shifts,
 * the brightness hardly, with soft edges, on the part only.
 */
function drawDiscoloration(img: Mat, p: DrawnPart, rnd: () => number): Box {
  const c = p.toFrame(p.pointOnPart());
  const ax = p.size * (0.3 + rnd() * 0.2);
  const ay = ax * (0.5 + rnd() * 0.4);
  const tint = TINTS[Math.floor(rnd() * TINTS.length)]!;
  const k = oddAtLeast3(p.size * 0.15);

  // Alpha: a blurred ellipse, cut to the part's face (not its holes, not the belt).
  const face = blankMask(img);
  face.drawFillPoly([p.outline.map(p.toFrame).map(pt)], new cv.Vec3(255, 255, 255), cv.LINE_8);
  for (const h of p.holes) face.drawCircle(pt(p.toFrame(h)), Math.round(p.holeR) + 1, new cv.Vec3(0, 0, 0), -1, cv.LINE_8);
  const blob = blankMask(img);
  blob.drawEllipse(new cv.RotatedRect(pt(c), new cv.Size(ax * 2, ay * 2), rnd() * 180), new cv.Vec3(255, 255, 255), -1, cv.LINE_AA);
  const soft = replaceMat(blob, blob.gaussianBlur(new cv.Size(k, k), 0));
  const alpha8 = soft.bitwiseAnd(face);
  soft.release();
  face.release();

  const reach = Math.max(ax, ay) + k / 2;
  const box = clipBox(
    intersectBox(bbox([[c[0] - reach, c[1] - reach], [c[0] + reach, c[1] + reach]], EDGE_PAD), bbox(p.outline.map(p.toFrame), EDGE_PAD)),
    img.cols,
    img.rows,
  );
  // The blend in floating point, on the box only: whole-frame float arithmetic costs tens of milliseconds.
  const rect = new cv.Rect(...box);
  const region = img.getRegion(rect);
  const alphaRegion = alpha8.getRegion(rect);
  const alpha = alphaRegion.cvtColor(cv.COLOR_GRAY2BGR);
  const alphaF = replaceMat(alpha, alpha.convertTo(cv.CV_32FC3, 1 / 255));
  // out = img + img * (gain - 1) * alpha, per channel.
  const gains = new cv.Mat(box[3], box[2], cv.CV_32FC3);
  gains.setTo(new cv.Vec3(tint[0] - 1, tint[1] - 1, tint[2] - 1)).release();
  const regionF = region.convertTo(cv.CV_32FC3);
  const scaled = regionF.hMul(gains);
  const delta = replaceMat(scaled, scaled.hMul(alphaF));
  const out = regionF.add(delta);
  const out8 = out.convertTo(cv.CV_8UC3);
  // Same size and type: copyTo writes through the region's header into the frame.
  out8.copyTo(region).release();
  for (const m of [alpha8, alphaRegion, region, alphaF, gains, regionF, delta, out, out8]) m.release();
  return box;
}

/** Per-channel (B, G, R) gains of a finish change, each keeping the grey level near the part's. */
const TINTS: [number, number, number][] = [
  [1.35, 0.95, 0.7], // blue heat tint
  [0.6, 1.0, 1.2], // straw / brass
  [0.75, 0.85, 1.3], // bronze
];

/** A zeroed single-channel mask of the frame's size (setTo: one native call, not a per-element fill). */
function blankMask(img: Mat): Mat {
  const m = new cv.Mat(img.rows, img.cols, cv.CV_8UC1);
  m.setTo(0).release();
  return m;
}

function oddAtLeast3(v: number): number {
  const n = Math.max(3, Math.round(v));
  return n % 2 === 1 ? n : n + 1;
}
