import { cv } from "./opencv.js";
import { frameMat } from "./preprocess.js";
import { EdgeError } from "../util/errors.js";

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
}

/**
 * A frame as JPEG for records and review pages, with the defect boxes and
 * their labels drawn on a copy (the frame itself is left as captured).
 * Encoding runs on libuv's pool, not the event loop.
 */
export async function encodeSnapshot(frame: { width: number; height: number; data: Uint8Array }, o: SnapshotOptions): Promise<Buffer> {
  if (!Number.isInteger(o.quality) || o.quality < 1 || o.quality > 100) {
    throw new EdgeError("E_SNAPSHOT", `JPEG quality must be a whole number from 1 to 100, got ${o.quality}`);
  }
  // A copy of the pixels: the frame itself stays as captured.
  const img = frameMat(frame);
  const thickness = Math.max(1, Math.round(Math.min(frame.width, frame.height) / 240));
  const fontScale = Math.max(0.4, Math.min(frame.width, frame.height) / 960);
  for (const b of o.boxes ?? []) {
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
  try {
    return await cv.imencodeAsync(".jpg", img, [cv.IMWRITE_JPEG_QUALITY, o.quality]);
  } finally {
    img.release();
  }
}
