import type { Backend, BackendFrame, CreateBackend } from "../../daemon/inference/backend.js";
import { nowMs } from "../../daemon/util/clock.js";

/**
 * An engine backend that misbehaves on purpose, by frame: every `every`-th
 * frame (seq % every === 0) throws, hangs its thread, returns garbage, or
 * crashes the worker; the others return a clean "ok" verdict after `latencyMs`.
 */
export interface FaultyOptions {
  labels: string[];
  fault: "throw" | "hang" | "garbage" | "crash" | "slow" | "none";
  every: number;
  latencyMs: number;
  /** For "slow": how long the faulty frames take. */
  slowMs?: number;
  failLoad?: boolean;
  /** How long loading takes (the model load before READY). */
  loadMs?: number;
}

export const createBackend: CreateBackend = async (raw) => {
  const o = raw as FaultyOptions;
  if (o.failLoad) throw new Error("model file is corrupt");
  if (o.loadMs) await new Promise((r) => setTimeout(r, o.loadMs));
  const busy = (ms: number) => {
    const t0 = nowMs();
    while (nowMs() - t0 < ms) {
      // hold the thread, as a native run() does
    }
  };
  const backend: Backend = {
    info: { name: "faulty", version: `faulty-${o.fault}`, labels: o.labels, backend: "test" },
    infer(frame: BackendFrame) {
      const faulty = o.fault !== "none" && frame.seq % o.every === 0;
      const t0 = nowMs();
      if (faulty) {
        switch (o.fault) {
          case "throw":
            throw new Error(`inference failed on frame ${frame.seq}`);
          case "hang":
            for (;;) {
              // never returns: only terminating the worker ends this
            }
          case "garbage":
            return { output: { kind: "classify", scores: [Number.NaN, 7, -1] }, preprocessMs: 0, inferMs: 0 } as never;
          case "crash":
            process.exit(3);
          case "slow":
            busy(o.slowMs ?? 1000);
            break;
        }
      }
      busy(o.latencyMs);
      const scores = o.labels.map((_, i) => (i === 0 ? 0.97 : 0.03 / (o.labels.length - 1)));
      return { output: { kind: "classify", scores }, preprocessMs: 0, inferMs: nowMs() - t0 };
    },
  };
  return backend;
};
