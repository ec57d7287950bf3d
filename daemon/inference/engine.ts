import type { Frame } from "../capture/camera.js";
import type { Finding } from "../pipeline/part.js";
import type { Thresholds } from "./model-package.js";

export interface EngineInfo {
  name: string;
  version: string;
  labels: string[];
  /** What actually computes: e.g. "onnxruntime/cpu", "tfjs/wasm", "simulated". */
  backend: string;
  /** Set for a model package: what the App takes its decision settings from. */
  package?: PackageInfo;
}

export interface PackageInfo {
  dir: string;
  variant: string;
  precision: string;
  head: "classify" | "detect";
  okLabel: string;
  thresholds: Thresholds;
  /** How the runtime was chosen: providers or backends tried and why they were passed over. */
  notes: string[];
}

export type EngineOutput =
  | { kind: "classify"; scores: number[] }
  | { kind: "detect"; detections: Finding[] };

export interface EngineResult {
  output: EngineOutput;
  preprocessMs: number;
  inferMs: number;
  /** The version of the model that computed this output: a swap may land while it is in flight. */
  modelVersion: string;
}

/**
 * A loaded model. infer() never blocks the caller's thread: implementations
 * compute in a worker. It rejects with a coded EdgeError on overload
 * (E_ENGINE_OVERLOAD), a crash or hang (E_ENGINE_FAILED), or output that does
 * not fit the model's labels (E_ENGINE_OUTPUT). The frame's pixels must stay
 * as they are until it settles (they may be read in place).
 */
export interface Engine {
  load(): Promise<EngineInfo>;
  infer(frame: Frame): Promise<EngineResult>;
  /** Requests accepted and not yet answered. */
  pending(): number;
  close(): Promise<void>;
}
