import { createHash } from "node:crypto";
import { cpSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parse, stringify } from "yaml";
import { cv } from "../../daemon/vision/opencv.js";
import type { BackendFrame } from "../../daemon/inference/backend.js";

/** Test fixtures live in the source tree; compiled tests run from dist/test. */
export const FIXTURES = fileURLToPath(new URL("../../../test/fixtures/", import.meta.url));
export const CLASSIFIER = `${FIXTURES}models/tiny-classifier`;
export const CLASSIFY_IMAGES = `${FIXTURES}images/classify`;
export const YOLOV5_CONST = `${FIXTURES}models/yolov5-const`;

export type Manifest = Record<string, unknown> & { files: Array<{ path: string; sha256: string; bytes: number }> };

/** A private copy of a package, changed by `edit`, with every listed file's size and hash optionally recomputed. */
export function editedPackage(edit: (dir: string, m: Manifest) => void, rehash = true, from = CLASSIFIER): string {
  const dir = mkdtempSync(join(tmpdir(), "pkg-"));
  cpSync(from, dir, { recursive: true });
  const m = parse(readFileSync(join(dir, "model.yaml"), "utf8")) as Manifest;
  edit(dir, m);
  if (rehash) {
    for (const f of m.files) {
      const data = readFileSync(join(dir, f.path));
      f.bytes = data.length;
      f.sha256 = createHash("sha256").update(data).digest("hex");
    }
  }
  writeFileSync(join(dir, "model.yaml"), stringify(m));
  return dir;
}

/**
 * yolov5-const with its two 0.9 objectness constants replaced by NaN: a model
 * whose every output row decides nothing, whatever the image.
 */
export function nanDetector(): string {
  return editedPackage(
    (dir) => {
      const file = join(dir, "model.onnx");
      const b = readFileSync(file);
      const nine = Buffer.alloc(4);
      nine.writeFloatLE(0.9);
      let at = b.indexOf(nine);
      if (at < 0) throw new Error("yolov5-const holds no 0.9 constant");
      for (; at >= 0; at = b.indexOf(nine, at + 4)) b.writeFloatLE(NaN, at);
      writeFileSync(file, b);
    },
    true,
    YOLOV5_CONST,
  );
}

/**
 * The classifier with an input scale that overflows float32 for any lit
 * pixel: its logits, and so its scores, are NaN on a real image (a warm-up's
 * zero input still gives finite ones). Without golden images unless `golden`.
 */
export function nanClassifier(golden = false): string {
  return editedPackage((_, m) => {
    (m.input as { normalize: { scale: number } }).normalize.scale = 1e300;
    if (!golden) m.golden = [];
  });
}

export function imageFrame(path: string, seq = 0): BackendFrame {
  const m = cv.imread(path);
  return { seq, width: m.cols, height: m.rows, data: m.getData() };
}

/** The classifier's fixture set: each image with the label its name starts with. */
export function classifyFixtures(): Array<{ name: string; label: string; frame: BackendFrame }> {
  return readdirSync(CLASSIFY_IMAGES)
    .filter((n) => n.endsWith(".png"))
    .sort()
    .map((name, i) => ({ name, label: name.split("-")[0]!, frame: imageFrame(`${CLASSIFY_IMAGES}/${name}`, i) }));
}
