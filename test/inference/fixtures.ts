import { readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { cv } from "../../daemon/vision/opencv.js";
import type { BackendFrame } from "../../daemon/inference/backend.js";

/** Test fixtures live in the source tree; compiled tests run from dist/test. */
export const FIXTURES = fileURLToPath(new URL("../../../test/fixtures/", import.meta.url));
export const CLASSIFIER = `${FIXTURES}models/tiny-classifier`;
export const CLASSIFY_IMAGES = `${FIXTURES}images/classify`;

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
