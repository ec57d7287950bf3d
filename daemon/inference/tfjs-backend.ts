import { createRequire } from "node:module";
import { dirname, join, posix } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { setWasmPaths } from "@tensorflow/tfjs-backend-wasm";
import { EdgeError, errorMessage } from "../util/errors.js";
import type { CreateBackend } from "./backend.js";
import { loadModelPackage, type ModelPackage } from "./model-package.js";
import { createPackageBackend, type ModelRuntime } from "./package-backend.js";
import type { InputTensor } from "../vision/preprocess.js";
import type { RawTensor } from "./tensor.js";

export const TFJS_BACKENDS = ["tensorflow", "wasm", "cpu"] as const;
export type TfjsBackendName = (typeof TFJS_BACKENDS)[number];

export interface TfjsBackendOptions {
  dir: string;
  variant?: string;
  /** Tried in order: tensorflow needs @tensorflow/tfjs-node installed; wasm ships with the project. */
  backends: TfjsBackendName[];
}

const require = createRequire(import.meta.url);

/**
 * A model package on TF.js: layers or graph models as tensorflowjs_converter
 * writes them (weights float32, or uint8 / float16 quantized), read from the
 * package's verified bytes, never fetched. Runs inside the engine worker:
 * the wasm and cpu backends compute on the calling thread.
 */
export const createBackend: CreateBackend = async (raw) => {
  const o = raw as TfjsBackendOptions;
  const pkg = loadModelPackage(o.dir, { engine: "tfjs", ...(o.variant ? { variant: o.variant } : {}) });
  // Anomaly models are ONNX graphs: a TF.js variant runs the classifier or detector only.
  if (pkg.anomalyModel !== undefined || pkg.model === undefined) {
    throw new EdgeError("E_MODEL_VARIANT", `${pkg.manifest.name}: variant '${pkg.variant}': TF.js runs no anomaly model (use an onnx variant)`);
  }
  const file = pkg.model;
  const notes: string[] = [];
  const backend = await chooseBackend(o.backends, notes);
  const handler = packageHandler(pkg, file);
  const format = parseJson(pkg, file).format;
  let model: tf.GraphModel | tf.LayersModel;
  try {
    model = format === "graph-model" ? await tf.loadGraphModel(handler) : await tf.loadLayersModel(handler);
  } catch (err) {
    // The package handler's own refusals (an unlisted shard) keep their code.
    if (err instanceof EdgeError) throw err;
    throw new EdgeError("E_MODEL_CORRUPT", `${file}: TF.js cannot load it: ${errorMessage(err)}`);
  }
  const shape = model.inputs[0]?.shape ?? [];
  const outputNames = model instanceof tf.GraphModel ? model.outputs.map((t) => t.name) : model.outputNames;
  const runtime: ModelRuntime = {
    name: `tfjs/${backend}`,
    inputShape: shape.map((d) => (d === null || d === undefined || d < 0 ? "batch" : d)),
    outputNames,
    async run(input: InputTensor, dims: number[]): Promise<RawTensor[]> {
      // TF.js has no uint8 tensors: integer inputs travel as int32.
      const x = input instanceof Float32Array ? tf.tensor(input, dims, "float32") : tf.tensor(Int32Array.from(input), dims, "int32");
      try {
        const y = model instanceof tf.GraphModel ? await executeGraph(model, x) : model.predict(x);
        const ys = Array.isArray(y) ? y : [y];
        try {
          return await Promise.all(ys.map(async (t) => ({ dims: t.shape, data: Float32Array.from(await t.data()) })));
        } finally {
          tf.dispose(ys);
        }
      } finally {
        x.dispose();
      }
    },
    close: () => {
      model.dispose();
    },
  };
  return createPackageBackend(pkg, runtime, notes);
};

let graphNeedsAsync = false;

/** execute() when the graph allows it; executeAsync() only for control flow or dynamic shapes, which execute() refuses. */
async function executeGraph(model: tf.GraphModel, x: tf.Tensor): Promise<tf.Tensor | tf.Tensor[]> {
  if (!graphNeedsAsync) {
    try {
      return model.execute(x);
    } catch (err) {
      if (!/executeAsync/.test(errorMessage(err))) throw err;
      graphNeedsAsync = true;
    }
  }
  return model.executeAsync(x);
}

/**
 * Loads @tensorflow/tfjs-node, which registers the "tensorflow" backend. It is
 * an optional dependency: npm drops it where libtensorflow cannot be
 * downloaded, and a copy whose install script never ran (npm's allowScripts)
 * or broke half-way has no native addon and throws here. Either way it is
 * absent: the error says why and the next backend is tried.
 */
export function loadTfjsNode(req: NodeRequire = require): void {
  req("@tensorflow/tfjs-node");
}

/** The first backend in `order` that starts; why each earlier one did not goes to `notes`. */
export async function chooseBackend(order: TfjsBackendName[], notes: string[], loadNode: () => void = loadTfjsNode): Promise<TfjsBackendName> {
  for (const name of order) {
    try {
      if (name === "tensorflow") {
        loadNode();
      } else if (name === "wasm") {
        setWasmPaths(`${dirname(require.resolve("@tensorflow/tfjs-backend-wasm"))}/`);
        // One thread: inference already has its own worker, and the wasm
        // thread pool would compete with the line for a small CPU.
        tf.env().set("WASM_HAS_MULTITHREAD_SUPPORT", false);
      }
      if (await tf.setBackend(name)) {
        await tf.ready();
        if (name === "wasm") notes.push(`wasm: SIMD ${(await tf.env().getAsync("WASM_HAS_SIMD_SUPPORT")) ? "on" : "off"}`);
        return name;
      }
      notes.push(`${name}: backend did not initialise`);
    } catch (err) {
      notes.push(`${name}: ${errorMessage(err).split("\n")[0]}`);
    }
  }
  throw new EdgeError("E_MODEL_LOAD", `no TF.js backend could start: ${notes.join("; ")}`);
}

function parseJson(pkg: ModelPackage, path: string): Record<string, unknown> {
  let json: unknown;
  try {
    json = JSON.parse(pkg.files.get(path)!.toString("utf8"));
  } catch (err) {
    throw new EdgeError("E_MODEL_CORRUPT", `${path}: not a TF.js model.json: ${errorMessage(err)}`);
  }
  if (!json || typeof json !== "object" || Array.isArray(json)) throw new EdgeError("E_MODEL_CORRUPT", `${path}: not a TF.js model.json: not a JSON object`);
  return json as Record<string, unknown>;
}

interface ModelJson {
  format?: string;
  generatedBy?: string;
  convertedBy?: string;
  modelTopology?: unknown;
  weightsManifest?: Array<{ paths: string[]; weights: tf.io.WeightsManifestEntry[] }>;
  signature?: unknown;
  userDefinedMetadata?: Record<string, unknown>;
}

/** An IOHandler over the package's verified files: weight shards must be listed in the manifest too. */
function packageHandler(pkg: ModelPackage, file: string): tf.io.IOHandler {
  return {
    load: async () => {
      const json = parseJson(pkg, file) as unknown as ModelJson;
      if (!json.modelTopology || !Array.isArray(json.weightsManifest)) {
        throw new EdgeError("E_MODEL_CORRUPT", `${file}: model.json has no modelTopology or weightsManifest`);
      }
      const specs: tf.io.WeightsManifestEntry[] = [];
      const shards: Buffer[] = [];
      for (const group of json.weightsManifest) {
        for (const p of group.paths) {
          const rel = posix.normalize(join(posix.dirname(file), p));
          const data = pkg.files.get(rel);
          if (!data) throw new EdgeError("E_MODEL_MANIFEST", `${file}: weight file '${rel}' is not listed in files`);
          shards.push(data);
        }
        specs.push(...group.weights);
      }
      const all = Buffer.concat(shards);
      return {
        modelTopology: json.modelTopology as tf.io.ModelArtifacts["modelTopology"],
        weightSpecs: specs,
        weightData: all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength),
        format: json.format,
        generatedBy: json.generatedBy,
        convertedBy: json.convertedBy,
        signature: json.signature as object,
        userDefinedMetadata: json.userDefinedMetadata,
      } as tf.io.ModelArtifacts;
    },
  };
}
