import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import { nowMs } from "../daemon/util/clock.js";
import { percentile } from "./harness.js";

/**
 * cyclictest (Debian rt-tests) beside a benchmark: a SCHED_FIFO thread on
 * each CPU (`-S`), waking every interval on an absolute clock_nanosleep, as
 * the reject core does. What they see late is what the kernel (and this VM,
 * which may stall one virtual CPU and not the other) impose on any real-time
 * thread, wherever it runs; every sample is kept, so a stall can be placed in
 * time.
 */
export class Cyclictest {
  private child: ChildProcess | undefined;
  private startMs = 0;
  private readonly samples: number[] = [];
  /** Worst latency per second since start, ms. */
  private readonly perSecond: number[] = [];

  constructor(
    private readonly priority: number,
    readonly intervalUs = 1000,
  ) {}

  start(): void {
    this.startMs = nowMs();
    const child = spawn("cyclictest", ["-q", "-m", "-S", "-d", "0", "-v", "-p", String(this.priority), "-i", String(this.intervalUs)], { stdio: ["ignore", "pipe", "pipe"] });
    this.child = child;
    child.on("error", (err) => {
      throw new Error(`cyclictest (Debian rt-tests) cannot run: ${err.message}; npm run bench installs it`);
    });
    // Each sample's deadline, from the start: cyclictest skips the periods a late wake-up swallowed (it does not
    // count them), so the count alone places samples after a stall too early.
    const deadlineUs: number[] = [];
    createInterface({ input: child.stdout! }).on("line", (line) => {
      // "thread:count:latency_us"
      const m = /^\s*(\d+):\s*(\d+):\s*(\d+)/.exec(line);
      if (!m) return;
      const thread = Number(m[1]);
      const us = Number(m[3]);
      const ms = us / 1000;
      let at = deadlineUs[thread] ?? 0;
      const second = Math.floor(at / 1e6);
      this.samples.push(ms);
      this.perSecond[second] = Math.max(this.perSecond[second] ?? 0, ms);
      const woke = at + us;
      at += this.intervalUs;
      while (at <= woke) at += this.intervalUs;
      deadlineUs[thread] = at;
    });
  }

  async stop(): Promise<void> {
    const c = this.child;
    if (!c || c.exitCode !== null) return;
    await new Promise<void>((r) => {
      c.once("exit", () => r());
      c.kill("SIGINT");
    });
  }

  /** The worst latency cyclictest saw in the second around a process-clock instant. */
  worstAround(tMs: number): number {
    const s = Math.floor((tMs - this.startMs) / 1000);
    return Math.max(this.perSecond[s] ?? 0, this.perSecond[s - 1] ?? 0);
  }

  summary(): { samples: number; p50_ms: number; p99_ms: number; max_ms: number } {
    return { samples: this.samples.length, p50_ms: percentile(this.samples, 50), p99_ms: percentile(this.samples, 99), max_ms: this.samples.reduce((a, b) => Math.max(a, b), 0) };
  }
}
