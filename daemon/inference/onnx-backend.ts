import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import * as ort from "onnxruntime-node";
import { EdgeError, errorMessage } from "../util/errors.js";
import type { CreateBackend } from "./backend.js";
import { loadModelPackage } from "./model-package.js";
import { createPackageBackend, type ModelRuntime } from "./package-backend.js";
import type { InputTensor } from "../vision/preprocess.js";
import type { RawTensor } from "./tensor.js";

export const ONNX_PROVIDERS = ["tensorrt", "cuda", "cpu"] as const;
export type OnnxProvider = (typeof ONNX_PROVIDERS)[number];

export interface OnnxBackendOptions {
  dir: string;
  variant?: string;
  /** Threads inside one operator; 0 lets onnxruntime pick (one per core). */
  intraOpThreads: number;
  interOpThreads: number;
  /** Busy-waiting worker threads shave latency but burn a small CPU that other work needs. */
  spinning: boolean;
  graphOptimization: "disabled" | "basic" | "extended" | "all";
  /** Tried in order; the first this build offers and that accepts the model wins. */
  providers: OnnxProvider[];
}

/**
 * A model package on onnxruntime-node (float, or int8 in QDQ or QOperator
 * form: onnxruntime runs both). Runs inside the engine worker: session.run()
 * keeps the calling thread busy for the whole inference.
 */
export const createBackend: CreateBackend = async (raw) => {
  const o = raw as OnnxBackendOptions;
  const pkg = loadModelPackage(o.dir, { engine: "onnx", ...(o.variant ? { variant: o.variant } : {}) });
  const notes: string[] = [];
  const open = (file: string) => openRuntime(pkg.files.get(file)!, file, pkg.input.dtype, o, notes);
  const runtime = pkg.model !== undefined ? await open(pkg.model) : undefined;
  let anomaly: ModelRuntime | undefined;
  try {
    anomaly = pkg.anomalyModel !== undefined ? await open(pkg.anomalyModel) : undefined;
    return await createPackageBackend(pkg, runtime, notes, anomaly);
  } catch (err) {
    await runtime?.close();
    await anomaly?.close();
    throw err;
  }
};

/** One model file on the first execution provider that accepts it. */
async function openRuntime(bytes: Buffer, file: string, type: "float32" | "uint8", o: OnnxBackendOptions, notes: string[]): Promise<ModelRuntime> {
  const offered = new Set(ort.listSupportedBackends().map((b) => b.name));
  let session: ort.InferenceSession | undefined;
  let chosen: OnnxProvider | undefined;
  for (const p of o.providers) {
    if (!offered.has(p)) {
      notes.push(`${p}: not in this onnxruntime build`);
      continue;
    }
    const missing = missingProviderLibrary(p);
    if (missing) {
      notes.push(`${p}: ${missing} is not installed (the npm build is CPU-only; see docs/model-package.md, GPU on a Jetson)`);
      continue;
    }
    try {
      session = await ort.InferenceSession.create(bytes, sessionOptions(o, p));
      chosen = p;
      break;
    } catch (err) {
      const msg = errorMessage(err);
      // A model that does not parse fails on every provider: say so once, precisely.
      if (/protobuf|parse|invalid model|load model|ModelProto|INVALID_GRAPH|INVALID_PROTOBUF|data pointer is null/i.test(msg)) {
        throw new EdgeError("E_MODEL_CORRUPT", `${file}: onnxruntime cannot load it: ${msg}`);
      }
      notes.push(`${p}: ${msg.split("\n")[0]}`);
    }
  }
  if (!session || !chosen) throw new EdgeError("E_MODEL_LOAD", `no execution provider could run ${file}: ${notes.join("; ")}`);
  const s = session;
  const meta = s.inputMetadata[0];
  const inputShape = meta && meta.isTensor ? meta.shape : [];
  const inputName = s.inputNames[0]!;
  return {
    name: `onnxruntime/${chosen}`,
    inputShape,
    outputNames: s.outputNames,
    async run(input: InputTensor, dims: number[]): Promise<RawTensor[]> {
      const feeds = { [inputName]: new ort.Tensor(type, input, dims) };
      const out = await s.run(feeds);
      return s.outputNames.map((n) => {
        const t = out[n]!;
        const data = t.data instanceof Float32Array ? t.data : Float32Array.from(t.data as ArrayLike<number>);
        return { dims: [...t.dims], data };
      });
    },
    close: () => s.release(),
  };
}

/**
 * The GPU providers live in shared libraries beside the binding, present
 * only in a GPU-enabled build; asking onnxruntime for one that is absent
 * costs seconds and logs native errors, so look first.
 */
function missingProviderLibrary(p: OnnxProvider): string | undefined {
  if (p === "cpu") return undefined;
  const require = createRequire(import.meta.url);
  const bin = join(dirname(require.resolve("onnxruntime-node")), "..", "bin", "napi-v6", process.platform, process.arch);
  const lib = `libonnxruntime_providers_${p}.so`;
  return existsSync(join(bin, lib)) ? undefined : lib;
}

function sessionOptions(o: OnnxBackendOptions, provider: OnnxProvider): ort.InferenceSession.SessionOptions {
  const spin = o.spinning ? "1" : "0";
  return {
    executionProviders: [provider],
    intraOpNumThreads: o.intraOpThreads,
    interOpNumThreads: o.interOpThreads,
    graphOptimizationLevel: o.graphOptimization,
    executionMode: "sequential",
    logSeverityLevel: 3,
    extra: { session: { intra_op: { allow_spinning: spin }, inter_op: { allow_spinning: spin } } },
  };
}
