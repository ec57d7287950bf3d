import { closeSync, openSync, readSync } from "node:fs";
import { Worker, isMainThread, parentPort, workerData } from "node:worker_threads";
import { fileURLToPath } from "node:url";
import { nowMs } from "../../../daemon/util/clock.js";

/** A level the device showed, from `tMs` (process clock) on. */
export interface Level {
  line: string;
  value: 0 | 1;
  tMs: number;
}

interface Job {
  lines: Array<{ name: string; valuePath: string }>;
  stop: SharedArrayBuffer;
}

/**
 * Samples gpio-sim line values (what the outputs drive) in a thread of its
 * own, as fast as the VM lets it, keeping each change with its time: the
 * device-side record the tests judge the daemon's outputs by.
 */
export class Sampler {
  private readonly stop = new SharedArrayBuffer(4);
  private readonly result: Promise<Level[]>;
  private readonly ready: Promise<void>;

  private constructor(lines: Array<{ name: string; valuePath: string }>) {
    const worker = new Worker(fileURLToPath(import.meta.url), { workerData: { lines: lines.map(({ name, valuePath }) => ({ name, valuePath })), stop: this.stop } satisfies Job });
    this.ready = new Promise((resolve, reject) => {
      worker.once("message", () => resolve());
      worker.once("error", reject);
    });
    this.result = new Promise((resolve, reject) => {
      worker.on("message", (m: Level[] | "sampling") => m !== "sampling" && resolve(m));
      worker.once("error", reject);
    });
  }

  /** Resolves once the first values have been read: a worker takes a while to start in the VM. */
  static async start(lines: Array<{ name: string; valuePath: string }>): Promise<Sampler> {
    const s = new Sampler(lines);
    await s.ready;
    return s;
  }

  async finish(): Promise<Level[]> {
    Atomics.store(new Int32Array(this.stop), 0, 1);
    return this.result;
  }
}

/** Levels of one line as [from, to) intervals. */
export function intervals(levels: Level[], line: string, endMs: number): Array<{ value: 0 | 1; from: number; to: number }> {
  const own = levels.filter((l) => l.line === line);
  return own.map((l, i) => ({ value: l.value, from: l.tMs, to: own[i + 1]?.tMs ?? endMs }));
}

if (!isMainThread) {
  const job = workerData as Job;
  const stop = new Int32Array(job.stop);
  const fds = job.lines.map((l) => openSync(l.valuePath, "r"));
  const buf = Buffer.alloc(4);
  const last: Array<0 | 1 | undefined> = job.lines.map(() => undefined);
  const out: Level[] = [];
  const nap = new Int32Array(new SharedArrayBuffer(4));
  let first = true;
  while (Atomics.load(stop, 0) === 0) {
    for (let i = 0; i < fds.length; i++) {
      readSync(fds[i]!, buf, 0, 4, 0);
      const v = buf[0] === 0x31 ? 1 : 0;
      if (v !== last[i]) {
        last[i] = v;
        out.push({ line: job.lines[i]!.name, value: v, tMs: nowMs() });
      }
    }
    if (first) parentPort!.postMessage("sampling");
    first = false;
    // 0.2 ms between rounds: fine enough for pulses of tens of ms, and leaves the VM's other CPU to the daemon.
    Atomics.wait(nap, 0, 0, 0.2);
  }
  for (const fd of fds) closeSync(fd);
  parentPort!.postMessage(out);
}
