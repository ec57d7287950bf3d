import type { CameraConfig } from "../config/schema.js";
import type { GroundTruth } from "./camera.js";
import type { FramePoolShared } from "./frame-pool.js";
import type { SourceInfo } from "./source.js";

export interface CaptureWorkerData {
  config: CameraConfig;
  /** Int32 slots shared between the camera and its capture thread, indexed by CONTROL. */
  control: SharedArrayBuffer;
  /** Frame slots to share with the camera: its queue plus the most frames the line holds at once. */
  slots: number;
}

export const CONTROL = {
  /** Frames the camera has handed on; the thread keeps at most `queue` ahead of it. */
  consumed: 0,
  /** Set by the camera when the source went silent: close and reopen it. */
  reopen: 1,
  /** Set by the camera when it stops: close the source (releasing the device) and end. */
  stop: 2,
  slots: 3,
} as const;

/**
 * Capture thread → camera. Ready once the source delivered its first frame;
 * `open` announces a reopened one. `drops` is the thread's running count of
 * frames it discarded. A frame's pixels are in `slot` of the pool announced last.
 */
export interface CaptureThread {
  ready: SourceInfo;
  events: CaptureMessage;
  requests: Record<never, never>;
  notes: never;
}

export type CaptureMessage =
  | { type: "open"; info: SourceInfo }
  | { type: "pool"; pool: FramePoolShared }
  | { type: "frame"; tCaptureMs: number; width: number; height: number; slot: number; truth?: GroundTruth; drops: number }
  | { type: "lost"; code: string; message: string; retryInMs: number; drops: number }
  | { type: "end"; drops: number };
