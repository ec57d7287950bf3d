/**
 * Width and height of an encoded image from its header alone, so a size can
 * be refused before a decoder allocates for it: a 30000 x 30000 PNG is under
 * a megabyte on disk and 2.7 GB once decoded. The OpenCV binding has no
 * header-only call, so the headers of the formats a station reads (those the
 * folder camera lists) are read here; any other format is not read at all.
 */
export type ImageFormat = "png" | "jpeg" | "bmp" | "tiff" | "webp" | "pnm";

export type HeaderResult = { format: ImageFormat; width: number; height: number } | { error: "format" | "truncated"; why: string };

const KNOWN_FORMATS = "PNG, JPEG, BMP, TIFF, WebP, PBM/PGM/PPM/PAM";

export function readImageHeader(b: Buffer): HeaderResult {
  const truncated = (why: string) => ({ error: "truncated" as const, why });
  const starts = (hex: string) => b.length >= hex.length / 2 && b.subarray(0, hex.length / 2).equals(Buffer.from(hex, "hex"));
  if (starts("89504e470d0a1a0a")) {
    if (b.length < 24 || b.toString("latin1", 12, 16) !== "IHDR") return truncated("PNG without its IHDR chunk");
    return { format: "png", width: b.readUInt32BE(16), height: b.readUInt32BE(20) };
  }
  if (starts("ffd8")) return jpeg(b);
  if (starts("424d")) {
    if (b.length < 26) return truncated("BMP header cut short");
    const dib = b.readUInt32LE(14);
    if (dib === 12) return { format: "bmp", width: b.readUInt16LE(18), height: b.readUInt16LE(20) };
    // A negative height is a top-down bitmap.
    return { format: "bmp", width: Math.abs(b.readInt32LE(18)), height: Math.abs(b.readInt32LE(22)) };
  }
  if (starts("49492a00") || starts("4d4d002a")) return tiff(b);
  if (b.length >= 12 && b.toString("latin1", 0, 4) === "RIFF" && b.toString("latin1", 8, 12) === "WEBP") return webp(b);
  if (b.length >= 2 && b[0] === 0x50 && b[1]! >= 0x31 && b[1]! <= 0x37) return pnm(b);
  return { error: "format", why: `not one of the image formats read here (${KNOWN_FORMATS})` };
}

/** Start-of-frame markers: baseline, extended, progressive, lossless, arithmetic. */
const SOF = new Set([0xc0, 0xc1, 0xc2, 0xc3, 0xc5, 0xc6, 0xc7, 0xc9, 0xca, 0xcb, 0xcd, 0xce, 0xcf]);

function jpeg(b: Buffer): HeaderResult {
  let i = 2;
  while (i + 4 <= b.length) {
    if (b[i] !== 0xff) return { error: "format", why: `JPEG: no marker at byte ${i}` };
    const marker = b[i + 1]!;
    if (marker === 0xff) {
      i++; // fill byte
      continue;
    }
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      i += 2;
      continue;
    }
    if (marker === 0xd9 || marker === 0xda) return { error: "format", why: "JPEG: no frame header before the scan" };
    const len = b.readUInt16BE(i + 2);
    if (SOF.has(marker)) {
      if (i + 9 > b.length) break;
      return { format: "jpeg", height: b.readUInt16BE(i + 5), width: b.readUInt16BE(i + 7) };
    }
    if (len < 2) return { error: "format", why: `JPEG: segment length ${len} at byte ${i}` };
    i += 2 + len;
  }
  return { error: "truncated", why: "JPEG ends before its frame header" };
}

function tiff(b: Buffer): HeaderResult {
  const le = b[0] === 0x49;
  const u16 = (o: number) => (le ? b.readUInt16LE(o) : b.readUInt16BE(o));
  const u32 = (o: number) => (le ? b.readUInt32LE(o) : b.readUInt32BE(o));
  if (b.length < 8) return { error: "truncated", why: "TIFF header cut short" };
  const ifd = u32(4);
  if (ifd + 2 > b.length) return { error: "truncated", why: `TIFF: first directory at byte ${ifd} is past the end` };
  const n = u16(ifd);
  let width: number | undefined;
  let height: number | undefined;
  for (let k = 0; k < n; k++) {
    const e = ifd + 2 + k * 12;
    if (e + 12 > b.length) return { error: "truncated", why: "TIFF: directory cut short" };
    const tag = u16(e);
    if (tag !== 256 && tag !== 257) continue;
    const type = u16(e + 2);
    const v = type === 3 ? u16(e + 8) : type === 4 ? u32(e + 8) : undefined;
    if (v === undefined) return { error: "format", why: `TIFF: image ${tag === 256 ? "width" : "length"} of type ${type}` };
    if (tag === 256) width = v;
    else height = v;
  }
  if (width === undefined || height === undefined) return { error: "format", why: "TIFF: first directory has no image width and length" };
  return { format: "tiff", width, height };
}

function webp(b: Buffer): HeaderResult {
  const chunk = b.toString("latin1", 12, 16);
  const cut = { error: "truncated" as const, why: `WebP ${chunk.trim()} header cut short` };
  if (chunk === "VP8 ") {
    if (b.length < 30) return cut;
    if (b.readUIntBE(23, 3) !== 0x9d012a) return { error: "format", why: "WebP VP8: no key frame start code" };
    return { format: "webp", width: b.readUInt16LE(26) & 0x3fff, height: b.readUInt16LE(28) & 0x3fff };
  }
  if (chunk === "VP8L") {
    if (b.length < 25) return cut;
    if (b[20] !== 0x2f) return { error: "format", why: "WebP VP8L: bad signature" };
    const bits = b.readUInt32LE(21);
    return { format: "webp", width: (bits & 0x3fff) + 1, height: ((bits >>> 14) & 0x3fff) + 1 };
  }
  if (chunk === "VP8X") {
    if (b.length < 30) return cut;
    return { format: "webp", width: b.readUIntLE(24, 3) + 1, height: b.readUIntLE(27, 3) + 1 };
  }
  return { error: "format", why: `WebP: unknown chunk '${chunk}'` };
}

/** Netpbm: P1-P6 give width and height as the first two numbers after the magic; P7 (PAM) as WIDTH and HEIGHT lines. */
function pnm(b: Buffer): HeaderResult {
  const head = b.toString("latin1", 0, Math.min(b.length, 4096));
  const body = head.slice(2).replace(/#[^\n]*/g, " ");
  if (head[1] === "7") {
    const w = /\bWIDTH\s+(\d+)/.exec(body);
    const h = /\bHEIGHT\s+(\d+)/.exec(body);
    if (!w || !h) return { error: /\bENDHDR\b/.test(body) ? "format" : "truncated", why: "PAM header without WIDTH and HEIGHT" };
    return { format: "pnm", width: Number(w[1]), height: Number(h[1]) };
  }
  const m = /^\s+(\d+)\s+(\d+)\s/.exec(body);
  if (!m) return { error: "truncated", why: "PNM header without width and height" };
  return { format: "pnm", width: Number(m[1]), height: Number(m[2]) };
}
