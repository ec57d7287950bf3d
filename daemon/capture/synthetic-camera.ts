import { nowMs } from "../util/clock.js";
import type { Camera, CameraStats, Frame } from "./camera.js";
import { renderPart, type LineSettings } from "./synthetic-line.js";

export interface SyntheticCameraOptions extends LineSettings {
  fps: number;
}

/**
 * A camera over the synthetic line: one rendered part per frame at a fixed
 * frame rate, each frame carrying its ground truth. Frame times are the
 * scheduled exposure times, so pacing does not drift with timer lateness.
 */
export class SyntheticCamera implements Camera {
  readonly kind = "synthetic";
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private seq = 0;
  private readonly counters = { frames: 0, drops: 0, reconnects: 0, stalls: 0 };

  constructor(private readonly o: SyntheticCameraOptions) {}

  async start(sink: (frame: Frame) => void): Promise<void> {
    this.running = true;
    const period = 1000 / this.o.fps;
    let next = nowMs();
    const tick = () => {
      if (!this.running) return;
      const now = nowMs();
      if (now - next > period) {
        // Fell behind by whole frames: a real sensor would have overwritten them.
        const missed = Math.floor((now - next) / period);
        this.counters.drops += missed;
        next += missed * period;
      }
      const seq = this.seq++;
      const { image, truth } = renderPart(this.o, seq);
      this.counters.frames++;
      sink({ seq, tCaptureMs: next, width: image.cols, height: image.rows, data: image.getData(), truth });
      next += period;
      this.timer = setTimeout(tick, Math.max(0, next - nowMs()));
    };
    this.timer = setTimeout(tick, 0);
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
  }

  stats(): CameraStats {
    return { ...this.counters, connected: this.running };
  }
}
