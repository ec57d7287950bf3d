import { cv, type Mat } from "./opencv.js";
import { checkPacked, type PackedFrame } from "../capture/packed-frame.js";
import { EdgeError } from "../util/errors.js";
import type { ModelInput } from "../inference/manifest.js";
import { channelsOf, inputSize } from "../inference/model-package.js";

/** A rectangle in frame pixels. */
export interface Rect {
  x: number;
  y: number;
  w: number;
  h: number;
}

/**
 * Maps model-input pixels back to frame pixels:
 * frameX = (inputX - padX) / scaleX + offsetX (and likewise for y).
 */
export interface InputTransform {
  scaleX: number;
  scaleY: number;
  padX: number;
  padY: number;
  offsetX: number;
  offsetY: number;
}

export type InputTensor = Float32Array | Uint8Array;

function pixelsOf(frame: PackedFrame): Buffer {
  checkPacked(frame);
  return Buffer.from(frame.data.buffer, frame.data.byteOffset, frame.data.byteLength);
}

/** A packed BGR frame as a Mat: a copy of its pixels (the binding copies), to be released by whoever made it. */
export function frameMat(frame: PackedFrame): Mat {
  return new cv.Mat(pixelsOf(frame), frame.height, frame.width, cv.CV_8UC3);
}

/**
 * A packed BGR frame as a Mat over the frame's own pixels, no copy: for
 * reading only, and to be released before the frame's buffer is reused. The
 * native header does not own the pixels; the Mat object holds their buffer,
 * so it cannot be collected while the Mat is in use.
 */
export function frameView(frame: PackedFrame): Mat {
  const pixels = pixelsOf(frame);
  return Object.assign(new cv.Mat(frame.height, frame.width, cv.CV_8UC3, pixels), { pixels });
}

/** Elements one image occupies in the model's input tensor. */
export function imageElements(input: ModelInput): number {
  const [h, w] = inputSize(input);
  return h * w * channelsOf(input);
}

export function allocInput(input: ModelInput, images: number): InputTensor {
  const n = imageElements(input) * images;
  return input.dtype === "uint8" ? new Uint8Array(n) : new Float32Array(n);
}

/**
 * Area interpolation when shrinking: each output pixel averages every source
 * pixel it covers, so a defect thinner than the shrink factor (a 2 px scratch
 * at 5x) stays a faint continuous line. Linear interpolation samples only the
 * 2x2 pixels nearest each output centre and skips the rest, turning it into a
 * dashed line or losing it. When enlarging, area falls back to nearest-pixel
 * blocks, so linear is the smoother choice there.
 */
function interpolation(region: Rect, w: number, h: number): number {
  return w <= region.w && h <= region.h ? cv.INTER_AREA : cv.INTER_LINEAR;
}

/**
 * Crops `region` of a BGR frame and writes it into `out` at image slot
 * `slot`, exactly as the model expects it: resized (stretched or
 * letterboxed), in the model's colour order, normalised
 * ((x * scale - mean) / std, one OpenCV convertTo per channel) and laid out
 * NCHW or NHWC. Returns the transform back to frame pixels.
 */
export function preprocessInto(src: Mat, region: Rect, input: ModelInput, out: InputTensor, slot: number): InputTransform {
  if (region.x < 0 || region.y < 0 || region.w < 1 || region.h < 1 || region.x + region.w > src.cols || region.y + region.h > src.rows) {
    throw new EdgeError("E_PREPROCESS", `region [${region.x}, ${region.y}, ${region.w}, ${region.h}] is outside the ${src.cols}x${src.rows} frame`);
  }
  // Every Mat made here is released before returning (see replaceMat).
  const made: Mat[] = [];
  const keep = <T extends Mat>(m: T): T => (made.push(m), m);
  try {
    return fill(src, region, input, out, slot, keep);
  } finally {
    for (const m of made) if (m !== src) m.release();
  }
}

function fill(src: Mat, region: Rect, input: ModelInput, out: InputTensor, slot: number, keep: <T extends Mat>(m: T) => T): InputTransform {
  const [H, W] = inputSize(input);
  const crop = region.x === 0 && region.y === 0 && region.w === src.cols && region.h === src.rows ? src : keep(src.getRegion(new cv.Rect(region.x, region.y, region.w, region.h)));
  let sized: Mat;
  const t: InputTransform = { scaleX: W / region.w, scaleY: H / region.h, padX: 0, padY: 0, offsetX: region.x, offsetY: region.y };
  if (input.resize === "letterbox") {
    const s = Math.min(W / region.w, H / region.h);
    const nw = Math.min(W, Math.round(region.w * s));
    const nh = Math.min(H, Math.round(region.h * s));
    const padX = Math.floor((W - nw) / 2);
    const padY = Math.floor((H - nh) / 2);
    const v = input.pad_value;
    sized = keep(
      keep(crop.resize(nh, nw, 0, 0, interpolation(region, nw, nh))).copyMakeBorder(padY, H - nh - padY, padX, W - nw - padX, cv.BORDER_CONSTANT, new cv.Vec3(v, v, v)),
    );
    Object.assign(t, { scaleX: s, scaleY: s, padX, padY });
  } else {
    sized = keep(crop.resize(H, W, 0, 0, interpolation(region, W, H)));
  }
  const colored = input.color === "GRAY" ? keep(sized.cvtColor(cv.COLOR_BGR2GRAY)) : sized;
  const c = channelsOf(input);
  // Integer inputs take the pixels as they are: normalisation is inside such models.
  const { scale, mean, std } = input.dtype === "uint8" ? { scale: 1, mean: [0], std: [1] } : input.normalize;
  layOut(colored.getData(), { c, n: H * W, rgb: input.color === "RGB", nchw: input.layout === "NCHW", scale, mean, std }, out, slot * H * W * c);
  return t;
}

/**
 * The resized pixels (interleaved bytes, BGR or grey) into the tensor in one
 * pass: channel order, layout and normalisation ((x * scale - mean) / std)
 * together. One copy of the pixels out of OpenCV and no intermediate image
 * per channel: splitting and converting each plane in OpenCV made six
 * images and three float copies per frame for the collector to reclaim.
 */
function layOut(
  px: Uint8Array,
  o: { c: number; n: number; rgb: boolean; nchw: boolean; scale: number; mean: readonly number[]; std: readonly number[] },
  out: InputTensor,
  base: number,
): void {
  const { c, n } = o;
  for (let ch = 0; ch < c; ch++) {
    // Frames are BGR: the model's first channel is red for RGB.
    const from = o.rgb ? c - 1 - ch : ch;
    const s = o.std[o.std.length === 1 ? 0 : ch]!;
    const k = o.scale / s;
    const b = -o.mean[o.mean.length === 1 ? 0 : ch]! / s;
    let at = o.nchw ? base + ch * n : base + ch;
    const step = o.nchw ? 1 : c;
    for (let i = from; i < px.length; i += c, at += step) out[at] = px[i]! * k + b;
  }
}
