import { test } from "node:test";
import assert from "node:assert/strict";
import { cv, type Mat } from "../../daemon/vision/opencv.js";
import { allocInput, preprocessInto } from "../../daemon/vision/preprocess.js";
import type { ModelInput } from "../../daemon/inference/manifest.js";

const BACKGROUND = 200;
const LINE = 40;

function spec(w: number, h: number, resize: ModelInput["resize"] = "stretch"): ModelInput {
  return { shape: [1, h, w, 1], layout: "NHWC", dtype: "uint8", color: "GRAY", resize, pad_value: 0, normalize: { scale: 1, mean: [0], std: [1] } };
}

/** Model-input pixels of a BGR frame, as rows. */
function run(frame: Mat, input: ModelInput): number[][] {
  const out = allocInput(input, 1);
  preprocessInto(frame, { x: 0, y: 0, w: frame.cols, h: frame.rows }, input, out, 0);
  const [, h, w] = input.shape as number[];
  return Array.from({ length: h! }, (_, r) => [...out.subarray(r * w!, (r + 1) * w!)]);
}

/** A 640x480 grey part with a 2 px dark scratch running almost level from x 100 to 540. */
function scratchFrame() {
  const img = new cv.Mat(480, 640, cv.CV_8UC3).setTo(new cv.Vec3(BACKGROUND, BACKGROUND, BACKGROUND));
  img.drawLine(new cv.Point2(100, 200), new cv.Point2(540, 215), new cv.Vec3(LINE, LINE, LINE), 2, cv.LINE_8);
  return img;
}

test("shrinking 5x keeps a 2 px scratch as one unbroken line (area interpolation)", () => {
  const frame = scratchFrame();
  const source = frame.cvtColor(cv.COLOR_BGR2GRAY).getDataAsArray();
  const sourceDarkness = (x: number) => source.reduce((s, row) => s + BACKGROUND - row[x]!, 0);
  for (const resize of ["stretch", "letterbox"] as const) {
    const rows = run(frame, spec(128, 96, resize));
    // Columns fully inside the scratch's x range (100..540 at 1/5).
    for (let c = 21; c < 107; c++) {
      const column = rows.map((r) => r[c]!);
      const darkness = column.reduce((s, v) => s + BACKGROUND - v, 0);
      // Each output pixel is the mean of its 5x5 source block, so a column's
      // darkness summed over its rows is that of its 5 source columns / 25
      // (up to rounding of each pixel). Linear sampling reads 1 source column
      // in 5 and gives 0 or the full line instead.
      let expected = 0;
      for (let x = 5 * c; x < 5 * c + 5; x++) expected += sourceDarkness(x) / 25;
      assert.ok(Math.abs(darkness - expected) <= 5, `${resize} column ${c}: darkness ${darkness}, expected ${expected}`);
      assert.ok(Math.min(...column) <= BACKGROUND - 30, `${resize} column ${c}: the scratch is lost (darkest ${Math.min(...column)})`);
    }
  }
});

test("enlarging interpolates between pixels (linear), not in blocks", () => {
  const img = new cv.Mat(Buffer.from([0, 0, 0, 200, 200, 200, 0, 0, 0, 200, 200, 200]), 2, 2, cv.CV_8UC3);
  const rows = run(img, spec(8, 8));
  assert.deepEqual(rows[0], [0, 0, 25, 75, 125, 175, 200, 200]);
});

test("the tensor is the resized frame in the model's channel order, layout and normalisation, for every combination", () => {
  const frame = new cv.Mat(60, 80, cv.CV_8UC3);
  // Every pixel different in every channel: a swapped channel or a transposed layout shows.
  const px = new Uint8Array(60 * 80 * 3).map((_, i) => (i * 37 + (i % 3) * 91) % 256);
  const img = new cv.Mat(Buffer.from(px), 60, 80, cv.CV_8UC3);
  img.copyTo(frame);
  const mean = [0.485, 0.456, 0.406];
  const std = [0.229, 0.224, 0.225];
  for (const color of ["BGR", "RGB", "GRAY"] as const) {
    for (const layout of ["NCHW", "NHWC"] as const) {
      for (const dtype of ["float32", "uint8"] as const) {
        const c = color === "GRAY" ? 1 : 3;
        const input: ModelInput = {
          shape: layout === "NCHW" ? [1, c, 30, 40] : [1, 30, 40, c],
          layout,
          dtype,
          color,
          resize: "stretch",
          pad_value: 0,
          normalize: { scale: 1 / 255, mean: c === 1 ? [0.5] : mean, std: c === 1 ? [0.25] : std },
        };
        // Two images in the batch: the second slot is written where it belongs.
        const out = allocInput(input, 2);
        preprocessInto(frame, { x: 0, y: 0, w: 80, h: 60 }, input, out, 1);
        // The reference, plane by plane with OpenCV.
        const sized = frame.resize(30, 40, 0, 0, cv.INTER_AREA);
        const toModel = color === "RGB" ? sized.cvtColor(cv.COLOR_BGR2RGB) : color === "GRAY" ? sized.cvtColor(cv.COLOR_BGR2GRAY) : sized;
        const planes = c === 1 ? [toModel] : toModel.splitChannels();
        const want = (ch: number, y: number, x: number) => {
          const v = planes[ch]!.at(y, x) as unknown as number;
          return dtype === "uint8" ? v : (v / 255 - input.normalize.mean[ch]!) / input.normalize.std[ch]!;
        };
        const at = (ch: number, y: number, x: number) => 30 * 40 * c + (layout === "NCHW" ? ch * 1200 + y * 40 + x : (y * 40 + x) * c + ch);
        for (let ch = 0; ch < c; ch++) {
          for (let y = 0; y < 30; y++) {
            for (let x = 0; x < 40; x++) {
              const got = out[at(ch, y, x)]!;
              assert.ok(Math.abs(got - want(ch, y, x)) < 1e-5, `${color} ${layout} ${dtype} channel ${ch} at ${x},${y}: ${got}, want ${want(ch, y, x)}`);
            }
          }
        }
        assert.ok(out.subarray(0, 30 * 40 * c).every((v) => v === 0), `${color} ${layout} ${dtype}: slot 0 untouched`);
      }
    }
  }
});
