import { crc32, deflateSync } from "node:zlib";

/**
 * Small files whose headers claim any size: what a hostile or broken image
 * looks like to a reader (a 30000 x 30000 PNG of one colour is under a
 * megabyte; these are a few hundred bytes).
 */

function pngChunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, "latin1"), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}

/** A PNG with a valid IHDR (CRC and all) for w x h RGB, and one row of pixel data. */
export function png(w: number, h: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr.set([8, 2, 0, 0, 0], 8);
  return Buffer.concat([
    Buffer.from("89504e470d0a1a0a", "hex"),
    pngChunk("IHDR", ihdr),
    pngChunk("IDAT", deflateSync(Buffer.alloc(1 + Math.min(w, 64) * 3))),
    pngChunk("IEND", Buffer.alloc(0)),
  ]);
}

/** A baseline JPEG's markers up to the scan, with a frame header for w x h. */
export function jpeg(w: number, h: number): Buffer {
  const app0 = Buffer.from("ffe000104a46494600010100000100010000", "hex");
  const sof = Buffer.from([0xff, 0xc0, 0x00, 0x11, 8, h >> 8, h & 0xff, w >> 8, w & 0xff, 3, 1, 0x11, 0, 2, 0x11, 0, 3, 0x11, 0]);
  return Buffer.concat([Buffer.from([0xff, 0xd8]), app0, sof, Buffer.from([0xff, 0xd9])]);
}

/** A 24-bit BMP header for w x h with no pixel data. */
export function bmp(w: number, h: number): Buffer {
  const b = Buffer.alloc(54);
  b.write("BM", 0, "latin1");
  b.writeUInt32LE(54, 2);
  b.writeUInt32LE(54, 10);
  b.writeUInt32LE(40, 14);
  b.writeInt32LE(w, 18);
  b.writeInt32LE(h, 22);
  b.writeUInt16LE(1, 26);
  b.writeUInt16LE(24, 28);
  return b;
}

/** A little-endian TIFF whose first directory gives width and length as LONGs. */
export function tiff(w: number, h: number): Buffer {
  const b = Buffer.alloc(8 + 2 + 2 * 12 + 4);
  b.write("II*\0", 0, "latin1");
  b.writeUInt32LE(8, 4);
  b.writeUInt16LE(2, 8);
  const entry = (at: number, tag: number, v: number) => {
    b.writeUInt16LE(tag, at);
    b.writeUInt16LE(4, at + 2);
    b.writeUInt32LE(1, at + 4);
    b.writeUInt32LE(v, at + 8);
  };
  entry(10, 256, w);
  entry(22, 257, h);
  return b;
}

/** An extended WebP (VP8X) header for w x h (each at most 2^24). */
export function webp(w: number, h: number): Buffer {
  const b = Buffer.alloc(30);
  b.write("RIFF", 0, "latin1");
  b.writeUInt32LE(22, 4);
  b.write("WEBPVP8X", 8, "latin1");
  b.writeUInt32LE(10, 16);
  b.writeUIntLE(w - 1, 24, 3);
  b.writeUIntLE(h - 1, 27, 3);
  return b;
}

/** A binary PPM header for w x h, with a comment line, and no pixels. */
export function ppm(w: number, h: number): Buffer {
  return Buffer.from(`P6\n# crafted\n${w} ${h}\n255\n`, "latin1");
}
