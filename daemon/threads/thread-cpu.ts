import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import { threadHealth } from "./thread-health.js";

/** One thread's CPU: what the scheduler ran it for (ms), not what a profiler saw on its stack. */
export interface ThreadCpu {
  thread: string;
  /** Its kernel thread id; 0 for the row that sums the process's unnamed native threads. */
  tid: number;
  cpu_ms: number;
  /** Threads the row sums (1 but for `native`). */
  threads: number;
}

/** The calling thread's kernel id (Linux: /proc/thread-self), undefined where there is none. */
export function osThreadId(): number | undefined {
  try {
    return Number(readlinkSync("/proc/thread-self").split("/").pop());
  } catch {
    return undefined;
  }
}

/** CPU ms a thread of process `pid` has run, from its schedstat (nanoseconds on the CPU); undefined once it is gone. */
export function taskCpuMs(tid: number, pid: number | "self" = "self"): number | undefined {
  try {
    return Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, "utf8").split(" ")[0]) / 1e6;
  } catch {
    return undefined;
  }
}

/** Every thread of process `pid` by kernel id: its name (comm) and CPU ms. Empty where /proc is not there. */
export function tasks(pid: number | "self" = "self"): Map<number, { comm: string; cpuMs: number }> {
  const out = new Map<number, { comm: string; cpuMs: number }>();
  let ids: string[];
  try {
    ids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const id of ids) {
    const tid = Number(id);
    const cpuMs = taskCpuMs(tid, pid);
    if (cpuMs === undefined) continue;
    let comm = "";
    try {
      comm = readFileSync(`/proc/${pid}/task/${id}/comm`, "utf8").trim();
    } catch {
      // gone between the two reads: its CPU is still counted
    }
    out.set(tid, { comm, cpuMs });
  }
  return out;
}

/**
 * The process's CPU by thread: the main thread, each worker by its host's
 * name (two lines' engines are two `engine` rows), native threads that name
 * themselves (the reject core), and one `native` row for the rest
 * (onnxruntime's, OpenCV's, libuv's and V8's own threads).
 */
export function threadCpu(): ThreadCpu[] {
  const all = tasks();
  const rows: ThreadCpu[] = [];
  const take = (thread: string, tid: number) => {
    const t = all.get(tid);
    if (!t) return;
    rows.push({ thread, tid, cpu_ms: Math.round(t.cpuMs), threads: 1 });
    all.delete(tid);
  };
  take("main", process.pid);
  for (const h of threadHealth()) if (h.tid !== undefined) take(h.name, h.tid);
  for (const [tid, t] of [...all]) if (t.comm !== "node" && t.comm !== "") take(t.comm, tid);
  if (all.size > 0) rows.push({ thread: "native", tid: 0, cpu_ms: Math.round([...all.values()].reduce((n, t) => n + t.cpuMs, 0)), threads: all.size });
  return rows;
}
