import { mkdirSync, writeFileSync } from "node:fs";
import { extname, join, relative, resolve } from "node:path";
import { cv } from "../vision/opencv.js";
import { EdgeError } from "../util/errors.js";
import { renderPart, type LineSettings } from "./synthetic-line.js";
import type { NovelDefect } from "./novel-kinds.js";
import { toTruthPart, type TruthFile } from "./truth-file.js";

export interface DatasetOptions {
  out: string;
  parts: number;
  seed: number;
  defectRate: number;
  /** Novel (never trained) defect kinds to draw, for evaluation sets; none by default. */
  novelDefects?: readonly NovelDefect[];
  /** Share of parts with a novel defect when novelDefects is given. */
  novelRate?: number;
  width: number;
  height: number;
  fps: number;
  /** Video file to write (relative to `out` unless absolute). */
  video?: string;
  /** FourCC for the video; by default lossless FFV1 in .avi/.mkv, mp4v in .mp4. */
  fourcc?: string;
  /** Also write each frame as a lossless PNG under out/images/. */
  images: boolean;
}

/** The synthetic camera's default too (config/schema.ts). */
export const DEFAULT_NOVEL_RATE = 0.1;

const DEFAULT_FOURCC: Record<string, string> = { ".avi": "FFV1", ".mkv": "FFV1", ".mp4": "mp4v" };

/**
 * Renders N parts of the synthetic line into a video and/or an image folder,
 * plus truth.json. Same options, same bytes: rendering is seeded per part.
 */
export function writeSyntheticDataset(o: DatasetOptions): { truthFile: string; video: string | null; imagesDir: string | null } {
  const out = resolve(o.out);
  mkdirSync(out, { recursive: true });
  const videoPath = o.video ? resolve(out, o.video) : null;
  let writer: InstanceType<typeof cv.VideoWriter> | undefined;
  if (videoPath) {
    const ext = extname(videoPath).toLowerCase();
    const fourcc = o.fourcc ?? DEFAULT_FOURCC[ext];
    if (!fourcc) throw new EdgeError("E_SYNTH_VIDEO", `video ${videoPath}: use .avi, .mkv or .mp4 (or give --fourcc)`);
    if (fourcc.length !== 4) throw new EdgeError("E_SYNTH_VIDEO", `fourcc '${fourcc}' must be 4 characters`);
    writer = new cv.VideoWriter(videoPath, cv.VideoWriter.fourcc(fourcc), o.fps, new cv.Size(o.width, o.height));
  }
  const novel = o.novelDefects && o.novelDefects.length > 0 ? { kinds: o.novelDefects, rate: o.novelRate ?? DEFAULT_NOVEL_RATE } : undefined;
  const imagesDir = o.images ? join(out, "images") : null;
  if (imagesDir) mkdirSync(imagesDir, { recursive: true });

  const truth: TruthFile = {
    generator: "edge-inspect synth",
    seed: o.seed,
    defect_rate: o.defectRate,
    ...(novel ? { novel_defects: [...novel.kinds], novel_rate: novel.rate } : {}),
    width: o.width,
    height: o.height,
    fps: o.fps,
    video: videoPath ? relative(out, videoPath) : null,
    parts: [],
  };
  const settings: LineSettings = { width: o.width, height: o.height, seed: o.seed, defectRate: o.defectRate };
  if (novel) settings.novel = novel;
  for (let i = 0; i < o.parts; i++) {
    const { image, truth: t } = renderPart(settings, i);
    writer?.write(image);
    let file: string | null = null;
    if (imagesDir) {
      file = `images/${String(i).padStart(6, "0")}.png`;
      cv.imwrite(join(out, file), image, [cv.IMWRITE_PNG_COMPRESSION, 1]);
    }
    truth.parts.push(toTruthPart(i, file, t));
  }
  if (writer && videoPath) {
    writer.release();
    checkVideo(videoPath, o.parts);
  }
  const truthFile = join(out, "truth.json");
  // One part per line: diffable, and greppable by class.
  const { parts, ...head } = truth;
  const header = JSON.stringify(head, null, 1).slice(0, -2);
  writeFileSync(truthFile, `${header},\n "parts": [\n${parts.map((p) => `  ${JSON.stringify(p)}`).join(",\n")}\n ]\n}\n`);
  return { truthFile, video: videoPath, imagesDir };
}

/** VideoWriter fails silently (unwritable path, codec missing): read the result back. */
function checkVideo(path: string, frames: number): void {
  let count = 0;
  try {
    const cap = new cv.VideoCapture(path, cv.CAP_FFMPEG);
    count = cap.get(cv.CAP_PROP_FRAME_COUNT);
    cap.release();
  } catch {
    count = 0;
  }
  if (count !== frames) {
    throw new EdgeError("E_SYNTH_VIDEO", `video ${path} was not written correctly (${count} of ${frames} frames readable): is the folder writable and the codec available?`);
  }
}
