import { readdirSync, readFileSync } from "node:fs";

/** One thread of the daemon at one moment: CPU time so far (schedstat) and bytes read and written (io). */
interface TaskReading {
  tid: number;
  comm: string;
  cpuNs: number;
  rchar: number;
  wchar: number;
}

interface Reading {
  tS: number;
  tasks: Map<number, TaskReading>;
}

/** A thread's share of one core over a window. */
export interface ThreadShare {
  thread: string;
  tid: number;
  cpu_pct: number;
}

/**
 * Per-thread CPU of the daemon a bench started as its child process, read
 * from /proc/PID/task/TID/{schedstat,io} once a `periodMs`, so that a step
 * can say which thread was saturated. The daemon's worker threads all carry
 * Node's thread name, so each is known by what only it does: the capture
 * thread read the replay's recording at open (the most bytes read of any
 * worker), the writer writes SQLite's pages and the snapshots while the line
 * runs (the most bytes written in the window besides the main thread's log),
 * the engine wrote its private copy of the OpenCV binding at its start (the
 * most bytes written of the rest: libuv's pool threads, which encode the
 * snapshots, and V8's write next to nothing). The main thread is the
 * process's own id, the reject core names itself.
 */
export class ThreadCpuSampler {
  private pid: number | undefined;
  private readonly readings: Reading[] = [];
  private readonly timer: NodeJS.Timeout;
  private readonly started = Date.now();

  constructor(periodMs = 500) {
    this.timer = setInterval(() => this.sample(), periodMs);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Each thread's share of one core between `fromS` and `toS` seconds after the sampler started. */
  shares(fromS: number, toS: number): ThreadShare[] {
    const a = this.readings.find((r) => r.tS >= fromS);
    const b = [...this.readings].reverse().find((r) => r.tS <= toS);
    if (!a || !b || b.tS - a.tS < 1 || this.pid === undefined) return [];
    const wallNs = (b.tS - a.tS) * 1e9;
    const rows = [...b.tasks.values()].map((t) => {
      const before = a.tasks.get(t.tid) ?? t;
      return { ...t, busyNs: t.cpuNs - before.cpuNs, wroteInWindow: t.wchar - before.wchar };
    });
    const label = new Map<number, string>();
    label.set(this.pid, "main");
    for (const t of rows) if (t.comm === "reject-core") label.set(t.tid, "reject core");
    const pick = (name: string, by: (t: (typeof rows)[number]) => number) => {
      const best = rows.filter((t) => !label.has(t.tid)).sort((x, y) => by(y) - by(x))[0];
      if (best && by(best) > 0) label.set(best.tid, name);
    };
    pick("capture", (t) => t.rchar);
    pick("writer", (t) => t.wroteInWindow);
    pick("engine", (t) => (t.comm === "node" ? t.wchar : 0));
    return rows
      .map((t) => ({ thread: label.get(t.tid) ?? `other (${t.comm})`, tid: t.tid, cpu_pct: Math.round((t.busyNs / wallNs) * 1000) / 10 }))
      .filter((t) => t.cpu_pct >= 0.5 || !t.thread.startsWith("other"))
      .sort((x, y) => y.cpu_pct - x.cpu_pct);
  }

  private sample(): void {
    try {
      this.pid ??= daemonChild();
      if (this.pid === undefined) return;
      const tasks = new Map<number, TaskReading>();
      for (const name of readdirSync(`/proc/${this.pid}/task`)) {
        const t = readTask(this.pid, Number(name));
        if (t) tasks.set(t.tid, t);
      }
      this.readings.push({ tS: (Date.now() - this.started) / 1000, tasks });
    } catch {
      // The daemon has exited (or not yet started): nothing to read this time.
    }
  }
}

/** The child of this process that runs the daemon (bin/edge-inspect execs node on main.js). */
function daemonChild(): number | undefined {
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid === process.pid && readFileSync(`/proc/${name}/cmdline`, "utf8").includes("daemon/main.js")) return Number(name);
    } catch {
      // A process that ended while listed.
    }
  }
  return undefined;
}

function readTask(pid: number, tid: number): TaskReading | undefined {
  try {
    const dir = `/proc/${pid}/task/${tid}`;
    const io = readFileSync(`${dir}/io`, "utf8");
    const field = (k: string) => Number(new RegExp(`^${k}: (\\d+)`, "m").exec(io)?.[1] ?? 0);
    return {
      tid,
      comm: readFileSync(`${dir}/comm`, "utf8").trim(),
      cpuNs: Number(readFileSync(`${dir}/schedstat`, "utf8").split(" ")[0]),
      rchar: field("rchar"),
      wchar: field("wchar"),
    };
  } catch {
    return undefined;
  }
}
