import { cv, type Mat } from "./opencv.js";
import { frameMat } from "./preprocess.js";
import { EdgeError } from "../util/errors.js";
import type { HeatMap } from "../inference/engine.js";

export interface SnapshotBox {
  /** [x, y, w, h] in frame pixels. */
  box: [number, number, number, number];
  label?: string;
  /** BGR; red by default. */
  color?: [number, number, number];
}

export interface SnapshotOptions {
  /** JPEG quality 1..100. */
  quality: number;
  boxes?: SnapshotBox[];
  /** An anomaly map, overlaid in false colour where it covers the frame, under the boxes. */
  heatmap?: HeatMap;
}

/** Share of the false-colour map in the overlaid pixels: the part stays recognisable under it. */
const HEAT_ALPHA = 0.45;

/**
 * A frame as JPEG for records and review pages, with the defect boxes and
 * their labels drawn on a copy (the frame itself is left as captured).
 * Encoding runs on libuv's pool, not the event loop.
 */
export async function encodeSnapshot(frame: { width: number; height: number; data: Uint8Array }, o: SnapshotOptions): Promise<Buffer> {
  return encode(annotated(frame, o.boxes ?? [], o.heatmap), o.quality);
}

/** One view of a part for a snapshot of several: its frame, its boxes and its caption. */
export interface SnapshotPanel {
  frame: { width: number; height: number; data: Uint8Array };
  boxes: SnapshotBox[];
  heatmap?: HeatMap;
  caption: string;
}

/**
 * The views of one part side by side in one JPEG (each scaled to the first
 * one's height, captioned with its view), so that a part has one snapshot
 * whatever the number of cameras that saw it.
 */
export async function encodeViewsSnapshot(panels: SnapshotPanel[], quality: number): Promise<Buffer> {
  const height = panels[0]!.frame.height;
  const mats = panels.map((p) => {
    const img = annotated(p.frame, p.boxes, p.heatmap);
    const scaled = img.rows === height ? img : img.resize(height, Math.max(1, Math.round((img.cols * height) / img.rows)));
    if (scaled !== img) img.release();
    caption(scaled, p.caption);
    return scaled;
  });
  const sheet = new cv.Mat(height, mats.reduce((w, m) => w + m.cols, 0), cv.CV_8UC3, [0, 0, 0]);
  let x = 0;
  for (const m of mats) {
    m.copyTo(sheet.getRegion(new cv.Rect(x, 0, m.cols, m.rows)));
    x += m.cols;
    m.release();
  }
  return encode(sheet, quality);
}

async function encode(img: Mat, quality: number): Promise<Buffer> {
  try {
    if (!Number.isInteger(quality) || quality < 1 || quality > 100) {
      throw new EdgeError("E_SNAPSHOT", `JPEG quality must be a whole number from 1 to 100, got ${quality}`);
    }
    return await cv.imencodeAsync(".jpg", img, [cv.IMWRITE_JPEG_QUALITY, quality]);
  } finally {
    img.release();
  }
}

function strokes(width: number, height: number): { thickness: number; fontScale: number } {
  return { thickness: Math.max(1, Math.round(Math.min(width, height) / 240)), fontScale: Math.max(0.4, Math.min(width, height) / 960) };
}

/** A copy of the frame's pixels (the frame itself stays as captured) with the heat map under the boxes and their labels. */
function annotated(frame: { width: number; height: number; data: Uint8Array }, boxes: SnapshotBox[], heatmap: HeatMap | undefined): Mat {
  const img = frameMat(frame);
  if (heatmap) overlayHeatmap(img, heatmap);
  const { thickness, fontScale } = strokes(frame.width, frame.height);
  for (const b of boxes) {
    const [x, y, w, h] = b.box.map(Math.round) as [number, number, number, number];
    const color = new cv.Vec3(...(b.color ?? [0, 0, 255]));
    img.drawRectangle(new cv.Rect(x, y, Math.max(1, w), Math.max(1, h)), color, thickness);
    if (b.label) {
      const { size, baseLine } = cv.getTextSize(b.label, cv.FONT_HERSHEY_SIMPLEX, fontScale, thickness);
      // Above the box when there is room, else inside its top edge.
      const top = y - size.height - baseLine - 2 >= 0 ? y - size.height - baseLine - 2 : y;
      img.drawRectangle(new cv.Rect(x, top, size.width + 4, size.height + baseLine + 2), color, -1);
      img.putText(b.label, new cv.Point2(x + 2, top + size.height + 1), cv.FONT_HERSHEY_SIMPLEX, fontScale, new cv.Vec3(255, 255, 255), thickness, cv.LINE_AA);
    }
  }
  return img;
}

/** The view's name in the panel's bottom-left corner, white on black, legible on any part. */
function caption(img: Mat, text: string): void {
  const { thickness, fontScale } = strokes(img.cols, img.rows);
  const { size, baseLine } = cv.getTextSize(text, cv.FONT_HERSHEY_SIMPLEX, fontScale, thickness);
  const top = Math.max(0, img.rows - size.height - baseLine - 4);
  img.drawRectangle(new cv.Rect(0, top, Math.min(img.cols, size.width + 6), img.rows - top), new cv.Vec3(0, 0, 0), -1);
  img.putText(text, new cv.Point2(3, img.rows - baseLine - 2), cv.FONT_HERSHEY_SIMPLEX, fontScale, new cv.Vec3(255, 255, 255), thickness, cv.LINE_AA);
}

/**
 * Blends the map, coloured (JET: blue good, red anomalous), onto the frame
 * pixels the map covers: one affine warp of the map from input to frame
 * pixels into just that rectangle, one blend there. No per-pixel JavaScript,
 * and nothing done to the rest of the frame.
 */
function overlayHeatmap(img: Mat, hm: HeatMap): void {
  const t = hm.transform;
  // Map pixel centres (u + 0.5) land on frame pixel centres (x + 0.5): x = a * u + b.
  const ax = 1 / t.scaleX;
  const ay = 1 / t.scaleY;
  const bx = t.offsetX + (0.5 - t.padX) * ax - 0.5;
  const by = t.offsetY + (0.5 - t.padY) * ay - 0.5;
  // The frame pixels whose nearest map pixel is in the map (its edges at u = -0.5 and width - 0.5), within the frame.
  const span = (a: number, b: number, n: number, limit: number) => [Math.max(0, Math.ceil(b - 0.5 * a)), Math.min(limit, Math.ceil(a * (n - 0.5) + b))] as const;
  const [x0, x1] = span(ax, bx, hm.width, img.cols);
  const [y0, y1] = span(ay, by, hm.height, img.rows);
  if (x1 <= x0 || y1 <= y0) return;
  const map = new cv.Mat(Buffer.from(hm.data.buffer, hm.data.byteOffset, hm.data.byteLength), hm.height, hm.width, cv.CV_8UC1);
  const affine = new cv.Mat(
    [
      [ax, 0, bx - x0],
      [0, ay, by - y0],
    ],
    cv.CV_64F,
  );
  const coloured = cv.applyColorMap(map, cv.COLORMAP_JET);
  const warped = coloured.warpAffine(affine, new cv.Size(x1 - x0, y1 - y0), cv.INTER_LINEAR, cv.BORDER_REPLICATE);
  const covered = img.getRegion(new cv.Rect(x0, y0, x1 - x0, y1 - y0));
  const blended = covered.addWeighted(1 - HEAT_ALPHA, warped, HEAT_ALPHA, 0);
  blended.copyTo(covered);
  for (const m of [map, affine, coloured, warped, covered, blended]) m.release();
}
