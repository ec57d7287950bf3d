import type { Camera, CameraFrame, Frame } from "../capture/camera.js";
import { encodeSnapshot } from "../vision/snapshot.js";

const JPEG_QUALITY = 75;
/** Pins are kept this long past the travel time, for verdicts that settle late. */
const SLACK_MS = 1000;

/**
 * Keeps a few captured frames, at most one per interval, until the verdict on
 * them settles — which may be a belt's travel later — so the live view shows
 * a verdict on the very frame it was made on. Pins are copies: the camera's
 * buffers go back to it as soon as the line is done with a frame. Memory is
 * bounded by the pin count, whatever the frame rate.
 */
export class FrameSampler {
  private readonly pinned = new Map<number, Frame>();
  private lastPinMs = -Infinity;
  private readonly keep: number;

  constructor(
    private readonly everyMs: number,
    travelMs: number,
  ) {
    this.keep = Math.ceil((travelMs + SLACK_MS) / everyMs) + 1;
  }

  /** The camera as the pipeline sees it, with frames sampled here on the way. */
  tap(camera: Camera): Camera {
    return {
      kind: camera.kind,
      start: (sink) =>
        camera.start((f) => {
          this.offer(f);
          sink(f);
        }),
      stop: () => camera.stop(),
      stats: () => camera.stats(),
    };
  }

  offer(f: CameraFrame): void {
    if (f.tCaptureMs - this.lastPinMs < this.everyMs) return;
    this.lastPinMs = f.tCaptureMs;
    // The oldest pin's buffer takes the newest copy: a pin lives a few
    // seconds, long enough to reach the old generation, and frame-sized
    // garbage there would wait for a full collection.
    let data: Buffer | undefined;
    if (this.pinned.size >= this.keep) {
      // A Map iterates in insertion order: the first key is the oldest pin.
      const oldest = this.pinned.keys().next().value!;
      data = this.pinned.get(oldest)!.data;
      this.pinned.delete(oldest);
    }
    if (data?.length !== f.data.length) data = Buffer.allocUnsafeSlow(f.data.length);
    f.data.copy(data);
    const pin: Frame = { seq: f.seq, tCaptureMs: f.tCaptureMs, width: f.width, height: f.height, data };
    if (f.truth) pin.truth = f.truth;
    this.pinned.set(f.seq, pin);
  }

  get(seq: number): Frame | undefined {
    return this.pinned.get(seq);
  }
}

/** The live view's picture of a frame: a snapshot without boxes (the page draws them). */
export function encodeJpeg(f: Frame): Promise<Buffer> {
  return encodeSnapshot(f, { quality: JPEG_QUALITY });
}
