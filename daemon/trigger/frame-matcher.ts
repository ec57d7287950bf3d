import type { CameraFrame, Frame } from "../capture/camera.js";

/** A frame handed out retained for its taker, who calls `release` once done with it. */
export interface HeldFrame {
  frame: Frame;
  release: () => void;
}

interface Waiter {
  tMs: number;
  resolve: (f: HeldFrame | undefined) => void;
  timer: NodeJS.Timeout;
}

/** Frames the matcher keeps to pair triggers with: more than a trigger's tolerance ever spans. */
export const FRAMES_KEPT = 8;

/**
 * Hardware-trigger mode: pairs each trigger with the frame captured nearest
 * its time, within a tolerance. A frame captured after the trigger closes the
 * search (later frames are only farther); none within the tolerance → no frame.
 * While the camera is down no later frame can come, so a trigger is answered
 * at once from the frames already seen. The last `keep` frames stay retained.
 */
export class FrameMatcher {
  private readonly recent: Array<{ frame: CameraFrame; release: () => void }> = [];
  private waiters: Waiter[] = [];

  constructor(
    private readonly toleranceMs: number,
    private readonly cameraUp: () => boolean = () => true,
    private readonly keep = FRAMES_KEPT,
  ) {}

  offer(frame: CameraFrame): void {
    this.recent.push({ frame, release: frame.retain() });
    if (this.recent.length > this.keep) this.recent.shift()!.release();
    const still: Waiter[] = [];
    for (const w of this.waiters) {
      if (frame.tCaptureMs >= w.tMs) {
        clearTimeout(w.timer);
        w.resolve(this.nearest(w.tMs));
      } else {
        still.push(w);
      }
    }
    this.waiters = still;
  }

  /** The frame nearest `tMs` within the tolerance, retained for the caller; undefined if none. */
  take(tMs: number): Promise<HeldFrame | undefined> {
    const newest = this.recent[this.recent.length - 1]?.frame;
    if ((newest && newest.tCaptureMs >= tMs) || !this.cameraUp()) return Promise.resolve(this.nearest(tMs));
    return new Promise((resolve) => {
      const waiter: Waiter = {
        tMs,
        resolve,
        timer: setTimeout(() => {
          this.waiters = this.waiters.filter((w) => w !== waiter);
          resolve(this.nearest(tMs));
        }, this.toleranceMs),
      };
      this.waiters.push(waiter);
    });
  }

  /** Gives up on every open request and lets go of the frames kept (the source is gone or stopping). */
  cancelAll(): void {
    for (const w of this.waiters) {
      clearTimeout(w.timer);
      w.resolve(undefined);
    }
    this.waiters = [];
    for (const r of this.recent.splice(0)) r.release();
  }

  private nearest(tMs: number): HeldFrame | undefined {
    let best: CameraFrame | undefined;
    for (const { frame: f } of this.recent) {
      const d = Math.abs(f.tCaptureMs - tMs);
      if (d <= this.toleranceMs && (!best || d < Math.abs(best.tCaptureMs - tMs))) best = f;
    }
    return best && { frame: best, release: best.retain() };
  }
}
