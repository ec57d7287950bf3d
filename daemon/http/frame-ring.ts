import type { Camera, Frame } from "../capture/camera.js";
import { cv } from "../vision/opencv.js";

const JPEG_QUALITY = 75;

/**
 * The last few captured frames, by reference (frames are never reused by the
 * camera), so the live view can show the very frame a verdict was made on.
 * Encoding happens only on request, in OpenCV's thread pool.
 */
export class FrameRing {
  private readonly frames: Frame[] = [];

  constructor(private readonly size: number) {}

  /** The camera as the pipeline sees it, with every frame also kept here. */
  tap(camera: Camera): Camera {
    return {
      kind: camera.kind,
      start: (sink) =>
        camera.start((f) => {
          this.push(f);
          sink(f);
        }),
      stop: () => camera.stop(),
      stats: () => camera.stats(),
    };
  }

  push(f: Frame): void {
    this.frames.push(f);
    if (this.frames.length > this.size) this.frames.shift();
  }

  get(seq: number): Frame | undefined {
    return this.frames.find((f) => f.seq === seq);
  }

  latest(): Frame | undefined {
    return this.frames[this.frames.length - 1];
  }
}

export async function encodeJpeg(f: Frame): Promise<Buffer> {
  const mat = new cv.Mat(f.data, f.height, f.width, cv.CV_8UC3);
  return cv.imencodeAsync(".jpg", mat, [cv.IMWRITE_JPEG_QUALITY, JPEG_QUALITY]);
}
