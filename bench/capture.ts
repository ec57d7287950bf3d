import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Benchmark, BenchOptions, BenchResult } from "./harness.js";
import { cv } from "../daemon/vision/opencv.js";
import { allocInput, preprocessInto } from "../daemon/vision/preprocess.js";
import type { ModelInput } from "../daemon/inference/manifest.js";
import { writeSyntheticDataset } from "../daemon/capture/synthetic-dataset.js";
import { nowMs } from "../daemon/util/clock.js";

/** A MobileNet-class input: 224x224 RGB, NCHW float32, ImageNet mean/std. */
const INPUT: ModelInput = {
  shape: [1, 3, 224, 224],
  layout: "NCHW",
  dtype: "float32",
  color: "RGB",
  resize: "stretch",
  pad_value: 114,
  normalize: { scale: 1 / 255, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] },
};

const SIZES: Array<[number, number]> = [
  [640, 480],
  [1920, 1080],
];

interface Row extends Record<string, string | number> {
  size: string;
  codec: string;
  decode_fps: number;
  decode_preprocess_fps: number;
  preprocess_ms: number;
  share_of_limit: number;
}

/** Frames per second over `frames` reads of the video (reopened at its end), with optional work per frame. */
function measure(file: string, frames: number, work?: (m: InstanceType<typeof cv.Mat>) => void): number {
  let cap = new cv.VideoCapture(file, cv.CAP_FFMPEG);
  const t0 = nowMs();
  for (let i = 0; i < frames; i++) {
    let m = cap.read();
    if (m.empty) {
      cap.release();
      cap = new cv.VideoCapture(file, cv.CAP_FFMPEG);
      m = cap.read();
    }
    work?.(m);
    m.release();
  }
  const s = (nowMs() - t0) / 1000;
  cap.release();
  return frames / s;
}

export const captureBenchmark: Benchmark = {
  name: "capture",
  description: "frames/s: video decode alone (the limit) vs decode + preprocess to a 224x224 NCHW float32 input",
  async run(opts: BenchOptions): Promise<BenchResult> {
    const dir = mkdtempSync(join(tmpdir(), "edge-inspect-bench-capture-"));
    const rows: Row[] = [];
    try {
      for (const [w, h] of SIZES) {
        // MJPG is what USB and IP cameras deliver; it is the realistic decode cost.
        writeSyntheticDataset({ out: dir, parts: 30, seed: 1, defectRate: 0.3, width: w, height: h, fps: 30, video: `line-${w}.avi`, fourcc: "MJPG", images: false });
        const file = join(dir, `line-${w}.avi`);
        const frames = Math.max(20, Math.round((w > 1000 ? 150 : 400) * opts.scale));
        const out = allocInput(INPUT, 1);
        const region = { x: 0, y: 0, w, h };
        measure(file, 10);
        const decode = measure(file, frames);
        const full = measure(file, frames, (m) => preprocessInto(m, region, INPUT, out, 0));
        rows.push({
          size: `${w}x${h}`,
          codec: "MJPG",
          decode_fps: decode,
          decode_preprocess_fps: full,
          preprocess_ms: 1000 / full - 1000 / decode,
          share_of_limit: full / decode,
        });
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    return { rows, data: { input: INPUT, rows, threads: cv.getNumThreads() } };
  },
};
