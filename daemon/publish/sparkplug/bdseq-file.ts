import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { writeFileAtomic } from "../../util/atomic-write.js";
import { readBounded } from "../../util/bounded-read.js";
import { EdgeError } from "../../util/errors.js";

/**
 * The birth/death sequence number, kept in the data dir: it goes up by one
 * on every MQTT CONNECT (0 to 255, wrapping) and across restarts, so that a
 * host can tell the NDEATH of an old session from that of the current one.
 */
export class BdSeqFile {
  constructor(private readonly path: string) {}

  /** The number for the next CONNECT, written (and renamed into place) before it is used. */
  next(): number {
    const n = (this.last() + 1) % 256;
    try {
      mkdirSync(dirname(this.path), { recursive: true });
      writeFileAtomic(this.path, `${n}\n`);
    } catch (err) {
      throw new EdgeError("E_SPARKPLUG_BDSEQ", `cannot keep the Sparkplug bdSeq in ${this.path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    return n;
  }

  /** The last number used; -1 when none was (or the file is unreadable or damaged: the next one is then 0). */
  last(): number {
    let text: string;
    try {
      text = readBounded(this.path, { maxBytes: 64, noFollow: true }).toString("utf8");
    } catch {
      return -1;
    }
    const n = Number(text.trim());
    return Number.isInteger(n) && n >= 0 && n <= 255 ? n : -1;
  }
}
