import type { CameraConfig } from "../config/schema.js";
import type { GroundTruth } from "./camera.js";
import type { SourceInfo } from "./source.js";

export interface CaptureWorkerData {
  config: CameraConfig;
  /** Int32 slots shared between the camera and its capture thread, indexed by CONTROL. */
  control: SharedArrayBuffer;
}

export const CONTROL = {
  /** Frames the camera has handed on; the thread keeps at most `queue` ahead of it. */
  consumed: 0,
  /** Set by the camera when the source went silent: close and reopen it. */
  reopen: 1,
  slots: 2,
} as const;

/** Capture thread → camera. `drops` is the thread's running count of frames it discarded. */
export type CaptureMessage =
  | { type: "open"; info: SourceInfo }
  | { type: "frame"; tCaptureMs: number; width: number; height: number; data: ArrayBuffer; truth?: GroundTruth; drops: number }
  | { type: "lost"; code: string; message: string; retryInMs: number; drops: number }
  | { type: "end"; drops: number };
