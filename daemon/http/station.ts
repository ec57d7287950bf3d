import type { OverridesView } from "../decide/runtime-overrides.js";
import type { CameraStats } from "../capture/camera.js";
import type { SettledPart } from "../pipeline/part.js";
import type { Summary } from "../pipeline/run-stats.js";
import type { StoreStats } from "../records/store.js";
import type { ThreadHealth } from "../threads/thread-health.js";
import type { FrameSampler } from "./frame-sampler.js";

/** What the running station tells the review server (App implements it). */
export interface StationHealth {
  state: string;
  paused: boolean;
  modelVersion: string;
  /** Thresholds an operator set while the line ran (set-threshold), over the config's. */
  overrides: OverridesView;
  camera: CameraStats;
  /** Frames waiting for the inference worker. */
  engineQueue: number;
  inFlight: number;
  store: StoreStats;
  /** Every worker thread: its state, declared crash policy, restarts and last failure. */
  threads: ThreadHealth[];
  /** Each camera of a line with several views (`camera` is the first one's). */
  views?: Array<{ name: string; camera: CameraStats; modelVersion: string; engineQueue: number }>;
}

/** One line as the review server reads it: its books, health, parts and the frames kept for its live view. */
export interface StationLine {
  name: string;
  readonly frames: FrameSampler;
  summary(): Summary;
  health(): StationHealth;
  addSettledListener(listener: (p: SettledPart) => void): void;
}

export interface Station {
  health(): StationHealth;
  summary(): Summary;
  /** Every line, the first one first (one on most stations). */
  lines(): StationLine[];
  /** Every settled part of every line. */
  addSettledListener(listener: (p: SettledPart) => void): void;
}
