import { openSync, writeSync } from "node:fs";
import type { OutputLine, WorkerOutput } from "./gpio.js";

const HIGH = Buffer.from("1");
const LOW = Buffer.from("0");

/**
 * A sysfs output driven from a worker thread: the line was exported and
 * configured (direction, active_low) by OnoffGpio on the main thread; the
 * value file takes the logical level, as onoff's writeSync writes it.
 */
export function openSysfsValueOutput(w: Extract<WorkerOutput, { type: "sysfs" }>): OutputLine {
  const fd = openSync(w.valuePath, "r+");
  return { name: w.name, set: (active) => void writeSync(fd, active ? HIGH : LOW, 0, 1, 0) };
}
