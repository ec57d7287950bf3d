import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { DatasetManifest } from "./dataset-file.js";
import type { Split } from "./split.js";

/** Reads one split back from a dataset folder written by writeDataset(). */
export function readSplit(dir: string, split: Split): { manifest: DatasetManifest; images: Buffer[]; labels: number[] } {
  const manifest = JSON.parse(readFileSync(join(dir, "dataset.json"), "utf8")) as DatasetManifest;
  const s = manifest.splits[split];
  const raw = readFileSync(join(dir, s.file));
  const bytes = manifest.input.width * manifest.input.height * 3;
  if (raw.length !== s.count * bytes) throw new Error(`${join(dir, s.file)}: ${raw.length} bytes, expected ${s.count} images of ${bytes} bytes`);
  const images = Array.from({ length: s.count }, (_, i) => raw.subarray(i * bytes, (i + 1) * bytes));
  return { manifest, images, labels: s.labels };
}

/** HWC pixels → NCHW planes as the daemon feeds a model, channel order kept: pixel/255 in float32, or the bytes as they are in uint8. */
export function toPlanar(hwc: Uint8Array, width: number, height: number): Float32Array;
export function toPlanar(hwc: Uint8Array, width: number, height: number, dtype: "uint8"): Uint8Array;
export function toPlanar(hwc: Uint8Array, width: number, height: number, dtype: "float32" | "uint8"): Float32Array | Uint8Array;
export function toPlanar(hwc: Uint8Array, width: number, height: number, dtype: "float32" | "uint8" = "float32"): Float32Array | Uint8Array {
  if (dtype === "uint8") {
    const plane = width * height;
    const out = new Uint8Array(plane * 3);
    for (let p = 0; p < plane; p++) {
      out[p] = hwc[p * 3]!;
      out[plane + p] = hwc[p * 3 + 1]!;
      out[2 * plane + p] = hwc[p * 3 + 2]!;
    }
    return out;
  }
  const plane = width * height;
  const out = new Float32Array(plane * 3);
  for (let p = 0; p < plane; p++) {
    out[p] = hwc[p * 3]! / 255;
    out[plane + p] = hwc[p * 3 + 1]! / 255;
    out[2 * plane + p] = hwc[p * 3 + 2]! / 255;
  }
  return out;
}
