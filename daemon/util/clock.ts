/**
 * One monotonic time base for the whole process, in milliseconds.
 * process.hrtime is shared by every worker thread (performance.now() is not:
 * each worker has its own time origin), so trigger times, capture times and
 * pulse times from different threads compare directly.
 */
export function nowMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A wait that does not keep the process alive by itself (bounds on a stop or a drain). */
export function sleepUnref(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

/** Wall-clock time of a process-clock instant, for records and messages. */
export function wallTime(tMs: number): Date {
  return new Date(Date.now() - (nowMs() - tMs));
}
