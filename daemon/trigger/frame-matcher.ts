import type { Frame } from "../capture/camera.js";

interface Waiter {
  tMs: number;
  resolve: (f: Frame | undefined) => void;
  timer: NodeJS.Timeout;
}

/**
 * Hardware-trigger mode: pairs each trigger with the frame captured nearest
 * its time, within a tolerance. A frame captured after the trigger closes the
 * search (later frames are only farther); none within the tolerance → no frame.
 * While the camera is down no later frame can come, so a trigger is answered
 * at once from the frames already seen.
 */
export class FrameMatcher {
  private readonly recent: Frame[] = [];
  private waiters: Waiter[] = [];

  constructor(
    private readonly toleranceMs: number,
    private readonly cameraUp: () => boolean = () => true,
    private readonly keep = 8,
  ) {}

  offer(frame: Frame): void {
    this.recent.push(frame);
    if (this.recent.length > this.keep) this.recent.shift();
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

  take(tMs: number): Promise<Frame | undefined> {
    const newest = this.recent[this.recent.length - 1];
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

  /** Gives up on every open request (the source is gone or stopping). */
  cancelAll(): void {
    for (const w of this.waiters) {
      clearTimeout(w.timer);
      w.resolve(undefined);
    }
    this.waiters = [];
  }

  private nearest(tMs: number): Frame | undefined {
    let best: Frame | undefined;
    for (const f of this.recent) {
      const d = Math.abs(f.tCaptureMs - tMs);
      if (d <= this.toleranceMs && (!best || d < Math.abs(best.tCaptureMs - tMs))) best = f;
    }
    return best;
  }
}
