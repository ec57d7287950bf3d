import type { Backend, BackendFrame, CreateBackend } from "../../daemon/inference/backend.js";

/**
 * A detector for the synthetic line: it finds each frame's ground-truth defect
 * with its box (score 0.9) and nothing on a good part, so tests can follow
 * boxes from the frame to the pages.
 */
export interface TruthDetectorOptions {
  labels: string[];
}

export const createBackend: CreateBackend = async (raw) => {
  const o = raw as TruthDetectorOptions;
  const backend: Backend = {
    info: { name: "truth-detector", version: "truth-1", labels: o.labels, backend: "test" },
    infer(frame: BackendFrame) {
      const t = frame.truth;
      const detections = t?.defect && t.box ? [{ class: t.defect, score: 0.9, box: t.box }] : [];
      return { output: { kind: "detect", detections }, preprocessMs: 0, inferMs: 0.1 };
    },
  };
  return backend;
};
