import { Worker } from "node:worker_threads";
import type { Benchmark } from "./harness.js";
import { percentile } from "./harness.js";
import { Cyclictest } from "./cyclictest.js";
import { stressMatrix } from "./stressors.js";
import { LineActuation } from "../daemon/actuation/line-actuation.js";
import { SimulatedGpio } from "../daemon/actuation/simulated-gpio.js";
import { parseConfigText } from "../daemon/config/load.js";
import { nowMs, sleep } from "../daemon/util/clock.js";
import { createLogger } from "../daemon/util/log.js";

/**
 * Why the reject timing lives in a native thread: in one run, side by side,
 * how late a SCHED_FIFO thread wakes for a deadline when it is (a) a V8
 * worker thread waking on a timer and spinning the last 2 ms (how reject
 * pulses were timed before), (b) a V8 worker blocked in Atomics.wait, (c) the
 * native reject core, and (d) cyclictest: what the kernel delivers.
 */
const V8_WAKER = `
const { parentPort, workerData } = require("node:worker_threads");
const { spawnSync } = require("node:child_process");
const { readlinkSync } = require("node:fs");
const now = () => Number(process.hrtime.bigint()) / 1e6;
const tid = readlinkSync("/proc/thread-self").split("/").pop();
const rt = spawnSync("chrt", ["-f", "-p", String(workerData.priority), tid]).status === 0;
const late = [];
const end = now() + workerData.seconds * 1000;
const cell = new Int32Array(new SharedArrayBuffer(4));
function step() {
  const target = now() + 5 + Math.random() * 15;
  const go = () => {
    while (now() < target) {}
    late.push(now() - target);
    if (now() < end) step();
    else parentPort.postMessage({ rt, late });
  };
  if (workerData.mode === "atomics") {
    Atomics.wait(cell, 0, 0, Math.max(0, target - now() - 0.2));
    go();
  } else setTimeout(go, Math.max(0, target - now() - 2));
}
step();
`;

function v8Waker(mode: "timer" | "atomics", priority: number, seconds: number): Promise<{ rt: boolean; late: number[] }> {
  return new Promise((resolve, reject) => {
    const w = new Worker(V8_WAKER, { eval: true, workerData: { mode, priority, seconds } });
    w.once("message", (m: { rt: boolean; late: number[] }) => {
      void w.terminate();
      resolve(m);
    });
    w.once("error", reject);
  });
}

async function nativeCore(priority: number, seconds: number) {
  const config = parseConfigText("wake.yaml", "engine: { type: simulated }\ncamera: { type: synthetic }\nline: { travel_ms: 50, decision_margin_ms: 10 }\nactuation: { pulse_ms: 2, min_gap_ms: 0, window_ms: 1000 }\n", {});
  config.actuation.realtime_priority = priority;
  const act = new LineActuation(config, new SimulatedGpio(), () => "bench", () => undefined, createLogger("error", false));
  await act.start();
  const end = nowMs() + seconds * 1000;
  while (nowMs() < end) {
    act.tracker.judge(act.tracker.create({ tMs: nowMs() }), { verdict: "reject", findings: [{ class: "bench", score: 1 }] });
    await sleep(5 + Math.random() * 15);
  }
  await act.tracker.idle();
  const s = act.scheduler.stats()!;
  await act.stop();
  return s;
}

export const wakeBenchmark: Benchmark = {
  name: "wake",
  description: "deadline wake-up of a SCHED_FIFO thread: V8 worker (timer + spin, Atomics.wait) vs the native reject core vs cyclictest",
  async run(opts) {
    const seconds = opts.duration ?? Math.max(5, Math.round(20 * opts.scale));
    const priority = 10;
    const rows = [];
    const cases = [];
    for (const c of stressMatrix().filter((x) => x.name === "idle" || x.name.startsWith("cpu x"))) {
      for (const s of c.stressors) s.start();
      const cyc = new Cyclictest(priority);
      cyc.start();
      const [timer, atomics, core] = await Promise.all([v8Waker("timer", priority, seconds), v8Waker("atomics", priority, seconds), nativeCore(priority, seconds)]);
      await cyc.stop();
      for (const s of c.stressors) await s.stop();
      const k = cyc.summary();
      const row = (who: string, p50: number, p99: number, max: number, n: number) => ({ case: c.name, thread: who, samples: n, p50_ms: p50, p99_ms: p99, max_ms: max });
      const v8 = (who: string, r: { rt: boolean; late: number[] }) => row(`${who}${r.rt ? "" : " (normal priority)"}`, percentile(r.late, 50), percentile(r.late, 99), r.late.reduce((a, b) => Math.max(a, b), 0), r.late.length);
      const these = [
        row("cyclictest", k.p50_ms, k.p99_ms, k.max_ms, k.samples),
        row(`native reject core${core.priority ? "" : " (normal priority)"}`, core.lateP50Ms, core.lateP99Ms, core.lateMaxMs, core.pulses),
        v8("V8 worker, timer + 2 ms spin", timer),
        v8("V8 worker, Atomics.wait", atomics),
      ];
      rows.push(...these);
      cases.push({ case: c.name, rows: these, core_faults: { minor: core.minorFaults, major: core.majorFaults } });
    }
    return { rows, data: { seconds, priority, cases } };
  },
};
