import { writeFileSync } from "node:fs";

/**
 * Preloaded (`node --import`) into a daemon under test: SIGUSR2 blocks its
 * main thread for EDGE_HW_STALL_MS, as a long collection or a blocking call
 * would, writing "stalling" to EDGE_HW_STALL_FILE when it starts and "done"
 * when it ends. What the daemon's watchers make of edges they were too late
 * to read is under test, with no hook in the daemon's code.
 */
const file = process.env.EDGE_HW_STALL_FILE!;
const ms = Number(process.env.EDGE_HW_STALL_MS ?? 5000);
process.on("SIGUSR2", () => {
  writeFileSync(file, "stalling");
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
  writeFileSync(file, "done");
});
