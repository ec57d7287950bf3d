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
    const pin: Frame = { seq: f.seq, tCaptureMs: f.tCaptureMs, width: f.width, height: f.height, data: Buffer.from(f.data) };
    if (f.truth) pin.truth = f.truth;
    this.pinned.set(f.seq, pin);
    // A Map iterates in insertion order: the first key is the oldest pin.
    if (this.pinned.size > this.keep) this.pinned.delete(this.pinned.keys().next().value!);
  }

  get(seq: number): Frame | undefined {
    return this.pinned.get(seq);
  }
}

/** The live view's picture of a frame: a snapshot without boxes (the page draws them). */
export function encodeJpeg(f: Frame): Promise<Buffer> {
  return encodeSnapshot(f, { quality: JPEG_QUALITY });
}
