import { getPriority, setPriority } from "node:os";
import { errorMessage } from "./errors.js";

/**
 * Sets the calling thread's nice value (Linux keeps one per thread); the
 * threads it starts afterwards (capture, inference, the writer, libuv's
 * pool) inherit it. V8's own helper threads, started with the process,
 * keep theirs: with them at the same nice the daemon's threads crowd out
 * the event loop (bench/README.md, stress). Below 0 needs CAP_SYS_NICE or
 * root. Returns why it was refused, if it was.
 */
export function setThreadNice(nice: number): string | undefined {
  if (getPriority(0) === nice) return undefined;
  try {
    setPriority(0, nice);
    return undefined;
  } catch (err) {
    return `nice ${nice} refused: ${errorMessage(err)} (needs CAP_SYS_NICE, as the systemd unit grants, or root)`;
  }
}
