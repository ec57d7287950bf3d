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
  /** The classifier or detector head; "anomaly" for a package with an anomaly head only. */
  head: "classify" | "detect" | "anomaly";
  /** Set when the variant runs an anomaly head beside (or instead of) the head. */
  anomaly?: { threshold: number };
  okLabel: string;
  thresholds: Thresholds;
  /** How the runtime was chosen: providers or backends tried and why they were passed over. */
  notes: string[];
}

/** The class of the anomaly head's finding, in verdicts, records and messages. */
export const ANOMALY_CLASS = "anomaly";

/** The anomaly map of one part, as the snapshot overlays it. */
export interface HeatMap {
  width: number;
  height: number;
  /** Row-major, one byte per map pixel: the anomaly probability x 255. */
  data: Uint8Array;
  /**
   * Input pixels to frame pixels (the model input's transform): map pixel
   * (u, v) lies at frame ((u - padX) / scaleX + offsetX, (v - padY) / scaleY + offsetY).
   */
  transform: { scaleX: number; scaleY: number; padX: number; padY: number; offsetX: number; offsetY: number };
}

/** What the anomaly head says of one part. */
export interface AnomalyOutput {
  /** The image score, 0..1. */
  score: number;
  /** The package's threshold: the part is rejected when score >= threshold. */
  threshold: number;
  /** When the score reaches the threshold: the box of the map's peak region, [x, y, w, h] in frame pixels, and the map. */
  box?: [number, number, number, number];
  map?: HeatMap;
}

export type EngineOutput =
  | { kind: "classify"; scores: number[]; anomaly?: AnomalyOutput }
  | { kind: "detect"; detections: Finding[]; anomaly?: AnomalyOutput }
  /** A package with an anomaly head only. */
  | { kind: "anomaly"; anomaly: AnomalyOutput };

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
