import type { GroundTruth } from "../capture/camera.js";
import type { EngineInfo, EngineOutput } from "./engine.js";

/** A frame as it reaches the worker. */
export interface BackendFrame {
  seq: number;
  width: number;
  height: number;
  data: Uint8Array;
  truth?: GroundTruth;
}

export interface BackendResult {
  output: EngineOutput;
  preprocessMs: number;
  inferMs: number;
}

/**
 * What runs inside the engine worker. Each backend module exports
 * `createBackend(options)`, which loads and warms up the model before it
 * resolves; infer() may block its thread, which is the worker's.
 */
export interface Backend {
  info: EngineInfo;
  infer(frame: BackendFrame): BackendResult | Promise<BackendResult>;
  close?(): void | Promise<void>;
}

export type CreateBackend = (options: unknown) => Promise<Backend>;

/**
 * A frame as WorkerEngine posts it: its pixels in shared memory (the camera's
 * frame pool, or a slot of the engine's own), untouched until the engine
 * answers, so no part leaves a frame-sized copy behind in the worker for its
 * garbage collector.
 */
export interface SlotFrame extends Omit<BackendFrame, "data"> {
  slot: SharedArrayBuffer;
  offset: number;
  bytes: number;
}

/** The engine thread (engine-worker.ts) as WorkerEngine hosts it. */
export interface EngineThread {
  ready: EngineInfo;
  events: never;
  requests: { infer: { in: SlotFrame; out: BackendResult } };
  notes: never;
}
