import type { CameraConfig } from "../config/schema.js";
import type { FrameSource, SourceFrame, SourceInfo } from "./source.js";
import { renderPart } from "./synthetic-line.js";

type SyntheticConfig = Extract<CameraConfig, { type: "synthetic" }>;

/** The synthetic line as a camera: part after part, each frame with its ground truth. */
export class SyntheticSource implements FrameSource {
  private index = 0;

  constructor(private readonly c: SyntheticConfig) {}

  open(): SourceInfo {
    return { backend: "synthetic", fps: this.c.fps, refused: [] };
  }

  read(): SourceFrame {
    const { width, height, seed, defect_rate: defectRate, novel_defects: kinds, novel_rate: rate } = this.c;
    return renderPart({ width, height, seed, defectRate, novel: { kinds, rate } }, this.index++);
  }

  close(): void {}
}
