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
  const colored =
    input.color === "RGB" ? keep(sized.cvtColor(cv.COLOR_BGR2RGB)) : input.color === "GRAY" ? keep(sized.cvtColor(cv.COLOR_BGR2GRAY)) : sized;
  const c = channelsOf(input);
  const per = H * W * c;
  if (input.dtype === "uint8") {
    // Integer inputs take the pixels as they are: normalisation is inside such models.
    if (input.layout === "NHWC" || c === 1) out.set(colored.getData(), slot * per);
    else colored.splitChannels().forEach((ch, i) => out.set(keep(ch).getData(), slot * per + i * H * W));
    return t;
  }
  const { scale, mean, std } = input.normalize;
  const planes = (c === 1 ? [colored] : colored.splitChannels().map(keep)).map((ch, i) => {
    const m = mean[mean.length === 1 ? 0 : i]!;
    const s = std[std.length === 1 ? 0 : i]!;
    return keep(ch.convertTo(cv.CV_32F, scale / s, -m / s));
  });
  const f32 = (m: Mat) => {
    const b = m.getData();
    // A typed-array view needs 4-byte alignment; a pooled Buffer may not have it.
    return b.byteOffset % 4 === 0 ? new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4) : new Float32Array(new Uint8Array(b).buffer);
  };
  if (input.layout === "NCHW" || c === 1) planes.forEach((p, i) => out.set(f32(p), slot * per + i * H * W));
  else out.set(f32(keep(new cv.Mat(planes))), slot * per);
  return t;
}
