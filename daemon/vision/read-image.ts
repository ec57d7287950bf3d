import { describeRefusal, readBounded, ReadRefused } from "../util/bounded-read.js";
import { EdgeError, errorMessage } from "../util/errors.js";
import { readImageHeader } from "./image-header.js";
import { cv, type Mat } from "./opencv.js";

/** Larger than any camera frame a station judges (64 MP, e.g. 9344 x 7000); a decoded 3-channel one is 192 MB. */
export const MAX_IMAGE_PIXELS = 64 * 1024 * 1024;
const MAX_IMAGE_SIDE = 32768;
/** An image file larger than this is not read: a 64 MP PNG of noise is about 200 MB. */
const MAX_IMAGE_FILE_BYTES = 256 * 1024 * 1024;

/**
 * Decodes an encoded image, as 3-channel BGR, once its header is known to describe a size the
 * station can hold, so no decoder ever allocates for a hostile header:
 *   E_IMAGE_FORMAT  not one of the formats read (wrong magic), or a header that contradicts itself
 *   E_IMAGE_SIZE    zero or too large dimensions in the header
 *   E_IMAGE         the decoder refused the data (truncated, corrupt)
 */
export function decodeImage(data: Buffer, what: string): Mat {
  const h = readImageHeader(data);
  if ("error" in h) throw new EdgeError("E_IMAGE_FORMAT", `${what}: ${h.why}`);
  if (h.width === 0 || h.height === 0) throw new EdgeError("E_IMAGE_SIZE", `${what}: ${h.format} header says ${h.width} x ${h.height}: no pixels`);
  if (h.width > MAX_IMAGE_SIDE || h.height > MAX_IMAGE_SIDE || h.width * h.height > MAX_IMAGE_PIXELS) {
    throw new EdgeError(
      "E_IMAGE_SIZE",
      `${what}: ${h.format} header says ${h.width} x ${h.height}, more than the ${MAX_IMAGE_PIXELS} pixels (${MAX_IMAGE_SIDE} a side) an image may have`,
    );
  }
  let mat: Mat;
  try {
    mat = cv.imdecode(data, cv.IMREAD_COLOR);
  } catch (err) {
    throw new EdgeError("E_IMAGE", `${what}: cannot be decoded as ${h.format}: ${errorMessage(err)}`);
  }
  if (mat.empty) throw new EdgeError("E_IMAGE", `${what}: cannot be decoded as ${h.format} (corrupt or truncated)`);
  // IMREAD_COLOR applies a JPEG's EXIF orientation: a quarter turn swaps the sides.
  const fits = (mat.cols === h.width && mat.rows === h.height) || (mat.cols === h.height && mat.rows === h.width);
  if (!fits) {
    const got = `${mat.cols} x ${mat.rows}`;
    mat.release();
    throw new EdgeError("E_IMAGE_FORMAT", `${what}: decoded as ${got}, its ${h.format} header says ${h.width} x ${h.height}`);
  }
  return mat;
}

/** An image file: a regular file of bounded size (never a device or FIFO), checked as decodeImage does. */
export function readImageFile(path: string): Mat {
  let data: Buffer;
  try {
    data = readBounded(path, { maxBytes: MAX_IMAGE_FILE_BYTES });
  } catch (err) {
    if (err instanceof ReadRefused) throw new EdgeError("E_IMAGE", `${path}: ${describeRefusal(err.refusal)}`);
    throw err;
  }
  return decodeImage(data, path);
}
