import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

type Collect = (options: { type: "minor" | "major"; execution: "sync" | "async" }) => void;

/**
 * Frames reach the main thread as transferred ArrayBuffers (0.9 MB each at
 * VGA). Their memory is accounted to the capture thread that allocated it, so
 * this thread's collector never learns how much it holds: left alone, dead
 * frames piled up to ~50 MB before a collection came along for other reasons.
 * A young-generation collection every BUDGET bytes of frames keeps that to a
 * few frames, for well under a millisecond of this thread's time.
 *
 * Only the main thread imports this: the flag below is process-wide, and it is
 * set here at start-up, before any worker thread exists.
 */
const BUDGET = 8 * 1024 * 1024;

// The collector is not exposed to scripts unless asked for; a context created
// after the flag is set gets the `gc` function.
setFlagsFromString("--expose-gc");
const collect = runInNewContext("gc") as Collect;

let pending = 0;

/** Counts the bytes of a frame this thread took in; collects once they add up to BUDGET. */
export function countFrameBytes(bytes: number): void {
  pending += bytes;
  if (pending < BUDGET) return;
  pending = 0;
  collect({ type: "minor", execution: "sync" });
}
