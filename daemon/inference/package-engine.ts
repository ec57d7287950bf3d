import type { EngineConfig } from "../config/schema.js";
import type { OnnxBackendOptions } from "./onnx-backend.js";
import type { TfjsBackendOptions } from "./tfjs-backend.js";
import type { WorkerEngineOptions } from "./worker-engine.js";

export type PackageEngineConfig = Extract<EngineConfig, { type: "onnx" | "tfjs" }>;
type Runtime = Pick<WorkerEngineOptions, "queue" | "hangTimeoutMs" | "loadTimeoutMs">;

/** The engine worker's options for a model package on the configured runtime. */
export function packageEngineOptions(e: PackageEngineConfig, rt: Runtime): WorkerEngineOptions {
  const variant = e.variant ? { variant: e.variant } : {};
  if (e.type === "onnx") {
    const options: OnnxBackendOptions = {
      dir: e.package,
      ...variant,
      intraOpThreads: e.threads.intra_op,
      interOpThreads: e.threads.inter_op,
      spinning: e.spinning,
      graphOptimization: e.graph_optimization,
      providers: e.providers,
    };
    return { ...rt, module: new URL("./onnx-backend.js", import.meta.url).href, options };
  }
  const options: TfjsBackendOptions = { dir: e.package, ...variant, backends: e.backends };
  return { ...rt, module: new URL("./tfjs-backend.js", import.meta.url).href, options };
}
