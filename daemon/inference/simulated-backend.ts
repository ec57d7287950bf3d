import { checkPacked } from "../capture/packed-frame.js";
import { nowMs } from "../util/clock.js";
import { seededRandom } from "../util/random.js";
import type { Backend, BackendFrame, BackendResult, CreateBackend } from "./backend.js";

export interface SimulatedBackendOptions {
  labels: string[];
  okLabel: string;
  latencyMs: number;
  errorRate: number;
  seed: number;
}

/**
 * The engine's simulated twin for the synthetic line: it judges a frame from
 * the ground truth the synthetic camera attached, wrong at `errorRate`, and
 * occupies its thread for `latencyMs` like a synchronous native inference
 * call. Frames without ground truth are scored as good parts.
 */
export const createBackend: CreateBackend = async (raw) => {
  const o = raw as SimulatedBackendOptions;
  const okIndex = o.labels.indexOf(o.okLabel);
  const defects = o.labels.filter((l) => l !== o.okLabel);
  const backend: Backend = {
    info: { name: "simulated", version: `simulated-${o.seed}`, labels: o.labels, backend: "simulated" },
    infer(frame: BackendFrame): BackendResult {
      // As a real backend, which reads the pixels: a frame that does not hold its size is refused.
      checkPacked(frame);
      const t0 = nowMs();
      const rnd = seededRandom(o.seed * 1_000_003 + frame.seq);
      let truth = frame.truth?.defect ?? o.okLabel;
      if (rnd() < o.errorRate) {
        truth = truth === o.okLabel ? defects[Math.floor(rnd() * defects.length)]! : o.okLabel;
      }
      const known = o.labels.indexOf(truth);
      const hit = known >= 0 ? known : okIndex;
      const top = 0.75 + rnd() * 0.24;
      const rest = (1 - top) / (o.labels.length - 1);
      const scores = o.labels.map((_, i) => (i === hit ? top : rest));
      while (nowMs() - t0 < o.latencyMs) {
        // Busy, as a synchronous native run() keeps its thread.
      }
      return { output: { kind: "classify", scores }, preprocessMs: 0, inferMs: nowMs() - t0 };
    },
  };
  return backend;
};
