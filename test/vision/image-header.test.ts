import { test } from "node:test";
import assert from "node:assert/strict";
import { cv } from "../../daemon/vision/opencv.js";
import { readImageHeader } from "../../daemon/vision/image-header.js";
import { decodeImage, MAX_IMAGE_PIXELS } from "../../daemon/vision/read-image.js";
import { bmp, jpeg, png, ppm, tiff, webp } from "./crafted-images.js";

const coded = (code: string, message: RegExp) => (err: Error & { code?: string }) => {
  assert.equal(err.code, code, err.message);
  assert.match(err.message, message);
  return true;
};

test("the header gives the size OpenCV's own encoders wrote, for every format the station reads", () => {
  const colour = new cv.Mat(23, 37, cv.CV_8UC3, [10, 120, 240]);
  const grey = new cv.Mat(23, 37, cv.CV_8UC1, 128);
  const cases: Array<[string, typeof colour, string]> = [
    [".png", colour, "png"],
    [".png", grey, "png"],
    [".jpg", colour, "jpeg"],
    [".jpg", grey, "jpeg"],
    [".bmp", colour, "bmp"],
    [".tiff", colour, "tiff"],
    [".webp", colour, "webp"],
    [".ppm", colour, "pnm"],
    [".pgm", grey, "pnm"],
    [".pbm", grey, "pnm"],
    [".pam", colour, "pnm"],
  ];
  for (const [ext, mat, format] of cases) {
    const data = cv.imencode(ext, mat);
    assert.deepEqual(readImageHeader(data), { format, width: 37, height: 23 }, ext);
    const back = decodeImage(data, `x${ext}`);
    assert.deepEqual([back.cols, back.rows, back.channels], [37, 23, 3], ext);
  }
  // Lossless WebP has a header of its own.
  const lossless = cv.imencode(".webp", colour, [cv.IMWRITE_WEBP_QUALITY, 101]);
  assert.deepEqual(readImageHeader(lossless), { format: "webp", width: 37, height: 23 });
});

test("crafted headers are read as they claim, without decoding", () => {
  for (const [make, format] of [[png, "png"], [jpeg, "jpeg"], [bmp, "bmp"], [tiff, "tiff"], [webp, "webp"], [ppm, "pnm"]] as const) {
    assert.deepEqual(readImageHeader(make(30000, 30000)), { format, width: 30000, height: 30000 }, format);
  }
});

test("a header claiming more than the limit is E_IMAGE_SIZE before any decoder allocates", () => {
  const side = Math.ceil(Math.sqrt(MAX_IMAGE_PIXELS)) + 1;
  for (const make of [png, jpeg, bmp, tiff, webp, ppm]) {
    assert.throws(() => decodeImage(make(30000, 30000), "big"), coded("E_IMAGE_SIZE", /big: \w+ header says 30000 x 30000, more than the \d+ pixels/));
    assert.throws(() => decodeImage(make(side, side), "big"), coded("E_IMAGE_SIZE", /more than the/));
    assert.throws(() => decodeImage(make(40000, 1), "wide"), coded("E_IMAGE_SIZE", /40000 x 1/));
  }
  for (const make of [png, jpeg, bmp, tiff, ppm]) {
    assert.throws(() => decodeImage(make(0, 100), "empty"), coded("E_IMAGE_SIZE", /says 0 x 100: no pixels/));
  }
});

test("a header that lies about a small size is caught when the decoded size differs, or by the decoder", () => {
  const real = cv.imencode(".png", new cv.Mat(20, 30, cv.CV_8UC3, [1, 2, 3]));
  const lying = Buffer.from(real);
  lying.writeUInt32BE(31, 16); // IHDR width, CRC left stale
  assert.throws(() => decodeImage(lying, "lying"), (err: Error & { code?: string }) => ["E_IMAGE", "E_IMAGE_FORMAT"].includes(err.code!));
  assert.throws(() => decodeImage(png(64, 64), "no pixels"), coded("E_IMAGE", /cannot be decoded as png/));
});

test("wrong magic and cut headers are E_IMAGE_FORMAT, not handed to a decoder", () => {
  const cases: Array<[Buffer, RegExp]> = [
    [Buffer.alloc(0), /not one of the image formats/],
    [Buffer.from("hello, world"), /not one of the image formats/],
    [Buffer.from("GIF89a\x01\x00\x01\x00", "latin1"), /not one of the image formats/],
    [Buffer.from("NITF02.10"), /not one of the image formats/],
    [png(10, 10).subarray(0, 20), /PNG without its IHDR/],
    [jpeg(10, 10).subarray(0, 8), /JPEG ends before its frame header/],
    [Buffer.from("ffd8ffda0002", "hex"), /no frame header before the scan/],
    [Buffer.from("ffd8ffe00000ffc0", "hex"), /segment length 0/],
    [Buffer.from("ffd8000000000000", "hex"), /no marker at byte 2/],
    [bmp(10, 10).subarray(0, 20), /BMP header cut short/],
    [tiff(10, 10).subarray(0, 12), /directory cut short/],
    [Buffer.from("49492a00ffffff00", "hex"), /past the end/],
    [webp(10, 10).subarray(0, 20), /WebP VP8X header cut short/],
    [Buffer.from("RIFF\0\0\0\0WEBPABCD", "latin1"), /unknown chunk/],
    [Buffer.from("P6\n# only a comment\n", "latin1"), /PNM header without width and height/],
    [Buffer.from("P7\nDEPTH 3\nENDHDR\n", "latin1"), /PAM header without WIDTH and HEIGHT/],
  ];
  for (const [data, why] of cases) assert.throws(() => decodeImage(data, "f"), coded("E_IMAGE_FORMAT", why), why.source);
});
