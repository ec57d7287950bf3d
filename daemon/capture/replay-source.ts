import type { CameraConfig } from "../config/schema.js";
import { cv } from "../vision/opencv.js";
import { EdgeError } from "../util/errors.js";
import type { FrameSource, SourceFrame, SourceInfo } from "./source.js";

type ReplayConfig = Extract<CameraConfig, { type: "replay" }>;

/**
 * Plays a recording from memory: the stored source is decoded once, at
 * open, and its frames are handed out again and again. Each frame handed out
 * is a view of the kept one (the capture thread copies it into the frame pool
 * and releases its handle), so a replayed frame costs one copy and no decode.
 */
export class ReplaySource implements FrameSource {
  private frames: SourceFrame[] = [];
  private index = 0;

  constructor(
    private readonly c: ReplayConfig,
    private readonly stored: FrameSource,
  ) {}

  open(): SourceInfo {
    const limit = this.c.max_mb * 1024 * 1024;
    let bytes = 0;
    const info = this.stored.open();
    try {
      for (let f = this.stored.read(); f; f = this.stored.read()) {
        bytes += f.image.rows * f.image.cols * f.image.channels;
        if (bytes > limit) {
          f.image.release();
          throw new EdgeError("E_CAMERA_REPLAY", `${this.c.path}: its frames take more than camera.max_mb (${this.c.max_mb} MB) once decoded, after ${this.frames.length} frames: shorten the recording or raise max_mb`);
        }
        this.frames.push(f);
      }
    } catch (err) {
      this.close();
      throw err;
    } finally {
      this.stored.close();
    }
    if (this.frames.length === 0) throw new EdgeError("E_CAMERA_REPLAY", `${this.c.path}: no frame to replay`);
    return { backend: `replay of ${info.backend} (${this.frames.length} frames, ${(bytes / 1048576).toFixed(0)} MB)`, fps: this.c.fps, refused: [] };
  }

  read(): SourceFrame | undefined {
    if (this.index >= this.frames.length) {
      if (!this.c.loop) return undefined;
      this.index = 0;
    }
    const f = this.frames[this.index++]!;
    // A header over the kept pixels (a region as large as the frame): releasing it leaves them be.
    return { image: f.image.getRegion(new cv.Rect(0, 0, f.image.cols, f.image.rows)), ...(f.truth ? { truth: f.truth } : {}) };
  }

  close(): void {
    for (const f of this.frames) f.image.release();
    this.frames = [];
  }
}
