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

/** Messages between WorkerEngine and engine-worker. */
export type ToWorker = { type: "infer"; id: number; frame: BackendFrame } | { type: "close" };
export type FromWorker =
  | { type: "ready"; info: EngineInfo }
  | { type: "load-error"; code: string; message: string }
  | { type: "result"; id: number; result: BackendResult }
  | { type: "error"; id: number; code: string; message: string };
