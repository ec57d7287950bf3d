import { readdirSync, statSync } from "node:fs";
import { extname, join } from "node:path";
import type { Mat } from "../../daemon/vision/opencv.js";
import { readImageFile } from "../../daemon/vision/read-image.js";
import { errorCode, errorMessage } from "../../daemon/util/errors.js";
import { allocInput, preprocessInto } from "../../daemon/vision/preprocess.js";
import type { ModelInput } from "../../daemon/inference/manifest.js";
import { renderPart, DEFECT_CLASSES, type NovelSettings } from "../../daemon/capture/synthetic-line.js";
import { NOVEL_DEFECTS } from "../../daemon/capture/novel-kinds.js";

/** One labelled image, already resized to the model's input. */
export interface Sample {
  /** Where it came from, for error messages and the report. */
  origin: string;
  label: string;
  /** Packed HWC, BGR, uint8. */
  pixels: Buffer;
}

export interface InputSize {
  width: number;
  height: number;
}

const IMAGE_EXT = new Set([".png", ".jpg", ".jpeg", ".bmp"]);

/**
 * Shrinks a whole frame to the model input with the daemon's own
 * preprocessing (vision/preprocess.ts), so the model trains on exactly the
 * pixels the station will feed it. The pixels are kept as uint8 BGR; the
 * package's normalisation (x/255) is applied by the trainer and the engine.
 */
export function toModelInput(image: Mat, size: InputSize): Buffer {
  const spec = modelInputSpec(size);
  const out = allocInput(spec, 1);
  preprocessInto(image, { x: 0, y: 0, w: image.cols, h: image.rows }, spec, out, 0);
  return Buffer.from(out.buffer, out.byteOffset, out.byteLength);
}

function modelInputSpec(size: InputSize): ModelInput {
  return {
    shape: [1, size.height, size.width, 3],
    layout: "NHWC",
    dtype: "uint8",
    color: "BGR",
    resize: "stretch",
    pad_value: 0,
    normalize: { scale: 1, mean: [0], std: [1] },
  };
}

export const SYNTHETIC_LABELS = ["ok", ...DEFECT_CLASSES];
/** Every class the synthetic line can draw, the novel kinds (never trained on) last. */
export const SYNTHETIC_ALL_LABELS = [...SYNTHETIC_LABELS, ...NOVEL_DEFECTS];

/** Parts of the synthetic line, labelled from their ground truth (a novel part by its kind). */
export function* syntheticSamples(o: { parts: number; seed: number; defectRate: number; novel?: NovelSettings; frame: InputSize; size: InputSize }): Generator<Sample> {
  const settings = { width: o.frame.width, height: o.frame.height, seed: o.seed, defectRate: o.defectRate, ...(o.novel ? { novel: o.novel } : {}) };
  for (let i = 0; i < o.parts; i++) {
    const { image, truth } = renderPart(settings, i);
    yield { origin: `synthetic seed ${o.seed} part ${i}`, label: truth.defect ?? "ok", pixels: toModelInput(image, o.size) };
  }
}

/**
 * A user's folder: one sub-folder per class, images inside. Every problem is
 * reported with the path that has it, before any image is decoded where
 * possible, so a wrong layout fails in a second, not after an hour.
 */
export function listFolder(dir: string, okLabel: string): { label: string; path: string }[] {
  let entries: string[];
  try {
    if (!statSync(dir).isDirectory()) throw new Error(`dataset folder ${dir} is not a directory`);
    entries = readdirSync(dir).sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") throw new Error(`dataset folder ${dir} does not exist`);
    throw err;
  }
  const classes = entries.filter((e) => statSync(join(dir, e)).isDirectory());
  const strayImages = entries.filter((e) => IMAGE_EXT.has(extname(e).toLowerCase()));
  if (classes.length === 0) {
    const hint = strayImages.length > 0 ? ` (found ${strayImages.length} images directly inside it: move them into ${dir}/<class>/)` : "";
    throw new Error(`dataset folder ${dir} has no class sub-folders; expected ${dir}/<class>/*.png, e.g. ${dir}/${okLabel}/0001.png${hint}`);
  }
  if (strayImages.length > 0) throw new Error(`${dir}/${strayImages[0]}: images must sit in a class sub-folder (${dir}/<class>/), not in the dataset folder itself`);
  if (!classes.includes(okLabel)) throw new Error(`dataset folder ${dir} has no '${okLabel}' class folder (good parts); classes found: ${classes.join(", ")}`);
  const files: { label: string; path: string }[] = [];
  for (const cls of classes) {
    if (!/^[A-Za-z0-9_-]+$/.test(cls)) throw new Error(`${join(dir, cls)}: class names may only use letters, digits, '-' and '_' (they become labels and MQTT fields)`);
    const images = readdirSync(join(dir, cls))
      .filter((f) => IMAGE_EXT.has(extname(f).toLowerCase()))
      .sort();
    if (images.length === 0) throw new Error(`class folder ${join(dir, cls)} has no images (.png, .jpg, .jpeg, .bmp)`);
    for (const f of images) files.push({ label: cls, path: join(dir, cls, f) });
  }
  return files;
}

export function* folderSamples(files: { label: string; path: string }[], size: InputSize): Generator<Sample> {
  for (const f of files) {
    let image: Mat;
    try {
      image = readImageFile(f.path);
    } catch (err) {
      throw new Error(`${f.path}: cannot read image (${errorCode(err)}: ${errorMessage(err)})`);
    }
    yield { origin: f.path, label: f.label, pixels: toModelInput(image, size) };
  }
}
