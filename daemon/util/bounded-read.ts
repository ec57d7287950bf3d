import { closeSync, constants, fstatSync, openSync, readSync } from "node:fs";

/** Why a file was not read: the caller turns it into its own coded error. */
export type ReadRefusal =
  | { kind: "open"; errno: string }
  | { kind: "not-regular"; what: string }
  | { kind: "too-large"; bytes: number; max: number }
  | { kind: "changed"; bytes: number };

export class ReadRefused extends Error {
  constructor(
    readonly file: string,
    readonly refusal: ReadRefusal,
  ) {
    super(`${file}: ${describeRefusal(refusal)}`);
    this.name = "ReadRefused";
  }
}

export function describeRefusal(r: ReadRefusal): string {
  switch (r.kind) {
    case "open":
      return `${r.errno === "ENOENT" ? "file not found" : r.errno === "EACCES" ? "permission denied" : r.errno === "ELOOP" ? "is a symbolic link" : "cannot open"} (${r.errno})`;
    case "not-regular":
      return `is ${r.what}, not a regular file`;
    case "too-large":
      return `is ${r.bytes} bytes, more than the ${r.max} allowed`;
    case "changed":
      return `changed while it was read (${r.bytes} bytes read)`;
  }
}

export interface BoundedReadOptions {
  /** Refuse more than this many bytes, before reading any. */
  maxBytes: number;
  /** Refuse a symbolic link as the file itself (a link in a parent directory is the caller's check). */
  noFollow?: boolean;
  /** Sees every chunk as it is read, e.g. to hash it. */
  onChunk?: (chunk: Buffer) => void;
}

const CHUNK = 1 << 20;

/**
 * Reads a whole regular file of at most `maxBytes`, deciding from fstat() of
 * the open descriptor before reading a byte: a FIFO, a device (/dev/zero), a
 * directory or a file over the limit is refused unread, and opening never
 * blocks (O_NONBLOCK, so a FIFO with no writer cannot hang the caller). A file
 * that grows while it is read is refused too, so a size checked is a size read.
 */
export function readBounded(file: string, opts: BoundedReadOptions): Buffer {
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK | (opts.noFollow ? constants.O_NOFOLLOW : 0));
  } catch (err) {
    throw new ReadRefused(file, { kind: "open", errno: (err as NodeJS.ErrnoException).code ?? String(err) });
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new ReadRefused(file, { kind: "not-regular", what: fileKind(st) });
    if (st.size > opts.maxBytes) throw new ReadRefused(file, { kind: "too-large", bytes: st.size, max: opts.maxBytes });
    const data = Buffer.allocUnsafe(st.size);
    let at = 0;
    while (at < st.size) {
      const n = readSync(fd, data, at, Math.min(CHUNK, st.size - at), at);
      if (n === 0) break;
      opts.onChunk?.(data.subarray(at, at + n));
      at += n;
    }
    // One byte more than fstat said means the file grew under us.
    if (at !== st.size || readSync(fd, Buffer.alloc(1), 0, 1, at) !== 0) throw new ReadRefused(file, { kind: "changed", bytes: at });
    return data;
  } catch (err) {
    if (err instanceof ReadRefused) throw err;
    throw new ReadRefused(file, { kind: "open", errno: (err as NodeJS.ErrnoException).code ?? String(err) });
  } finally {
    closeSync(fd);
  }
}

function fileKind(st: import("node:fs").Stats): string {
  if (st.isDirectory()) return "a directory";
  if (st.isCharacterDevice()) return "a character device";
  if (st.isBlockDevice()) return "a block device";
  if (st.isFIFO()) return "a FIFO";
  if (st.isSocket()) return "a socket";
  return "not a file";
}
