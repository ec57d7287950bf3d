import { spawnSync } from "node:child_process";
import { readlinkSync } from "node:fs";
import { basename } from "node:path";

/**
 * Puts the calling thread under SCHED_FIFO at `priority`. On a busy 2-core
 * board the reject thread is otherwise descheduled for milliseconds at a
 * time, which is the pulse timing error; at real-time priority it preempts
 * everything else. Node has no sched_setscheduler, so `chrt` (util-linux)
 * is pointed at this thread's id (/proc/thread-self names the thread that
 * reads it). Needs root or CAP_SYS_NICE. Returns why it failed, if it did.
 */
export function raiseToRealtime(priority: number): string | undefined {
  let tid: string;
  try {
    tid = basename(readlinkSync("/proc/thread-self"));
  } catch (err) {
    return `cannot find this thread's id: ${(err as Error).message}`;
  }
  const r = spawnSync("chrt", ["-f", "-p", String(priority), tid], { encoding: "utf8" });
  if (r.error) return `chrt: ${r.error.message}`;
  if (r.status !== 0) return `chrt -f -p ${priority} ${tid}: ${(r.stderr || r.stdout).trim() || `exit ${r.status}`}`;
  return undefined;
}
