#!/usr/bin/env node
/**
 * Step 5: a trained, quantized and evaluated model folder → a model package
 * (docs/model-package.md): the ONNX float and int8 files, the TF.js layers
 * model, golden images, evaluation.json and model.yaml with every file's
 * sha256 and size.
 *   package --model DIR --data DIR --out PACKAGE_DIR --name NAME [--version 1.0.0]
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { dirname, join } from "node:path";
import { parseArgs } from "node:util";
import { stringify } from "yaml";
import { cv } from "../../daemon/vision/opencv.js";
import { readSplit } from "./split-file.js";

const MODEL_FILES = ["model.onnx", "model.int8.onnx", "tfjs/model.json", "tfjs/weights.bin"];

interface TrainMeta {
  labels: string[];
  ok_label: string;
  input: { height: number; width: number; color: "BGR" };
  input_scale: number;
  thresholds: Record<string, number>;
}

function fileEntry(root: string, path: string) {
  const data = readFileSync(join(root, path));
  return { path, sha256: createHash("sha256").update(data).digest("hex"), bytes: data.length };
}

function softmax(logits: number[]): number[] {
  const top = Math.max(...logits);
  const e = logits.map((v) => Math.exp(v - top));
  const sum = e.reduce((x, y) => x + y, 0);
  return e.map((v) => v / sum);
}

/**
 * Writes the package into a sibling folder and swaps it in only when complete:
 * a model refused as unfit (or a crash) leaves the package in service intact.
 */
function replaceAtomically<T>(out: string, write: (dir: string) => T): T {
  const next = `${out}.next-${process.pid}`;
  const old = `${out}.old-${process.pid}`;
  rmSync(next, { recursive: true, force: true });
  let result: T;
  try {
    result = write(next);
  } catch (err) {
    rmSync(next, { recursive: true, force: true });
    throw err;
  }
  if (existsSync(out)) renameSync(out, old);
  renameSync(next, out);
  rmSync(old, { recursive: true, force: true });
  return result;
}

function main(argv: string[]): void {
  const { values: a } = parseArgs({
    args: argv,
    options: {
      model: { type: "string" },
      data: { type: "string" },
      out: { type: "string" },
      name: { type: "string" },
      version: { type: "string", default: "1.0.0" },
      reproduce: { type: "string" },
    },
    strict: true,
  });
  if (!a.model || !a.data || !a.out || !a.name) throw new Error("--model, --data, --out and --name are required");
  const read = (f: string) => {
    try {
      return readFileSync(join(a.model!, f), "utf8");
    } catch {
      throw new Error(`${join(a.model!, f)} not found: run the train, quantize and evaluate steps first`);
    }
  };
  const meta = JSON.parse(read("train.json")) as TrainMeta;
  const evaluation = read("evaluation.json");
  // The thresholds shipped are the ones evaluate chose for the int8 model on
  // validation (train.json's were chosen for the float one).
  const chosen = (JSON.parse(evaluation) as { thresholds?: Record<string, number> }).thresholds;
  if (chosen) meta.thresholds = chosen;

  const count = replaceAtomically(a.out, (out) => writePackage(a as Args, out, meta, evaluation, read));
  console.log(`package ${a.out}: ${count} files, labels ${meta.labels.join(", ")}`);
}

interface Args {
  model: string;
  data: string;
  name: string;
  version: string;
  reproduce?: string;
}

/** Writes every file of the package into `out`; returns how many the manifest lists. */
function writePackage(a: Args, out: string, meta: TrainMeta, evaluation: string, read: (f: string) => string): number {
  for (const f of MODEL_FILES) {
    mkdirSync(dirname(join(out, f)), { recursive: true });
    copyFileSync(join(a.model, f), join(out, f));
  }
  writeFileSync(join(out, "evaluation.json"), evaluation);

  // Golden images: per class, the test image every variant judges right with
  // the widest margin. The loader refuses a package whose model no longer
  // judges them so, before a hot swap puts it in service.
  const runs = JSON.parse(read("onnxruntime.json")) as { models: Record<string, { logits: number[][] }> };
  const { images, labels } = readSplit(a.data, "test");
  const { width: w, height: h } = meta.input;
  mkdirSync(join(out, "golden"));
  const golden = meta.labels.map((label, li) => {
    const confidence = (i: number) => Math.min(...Object.values(runs.models).map((m) => softmax(m.logits[i]!)[li]!));
    const candidates = labels.flatMap((l, i) => (l === li ? [i] : []));
    const best = candidates.reduce((b, i) => (confidence(i) > confidence(b) ? i : b), candidates[0]!);
    if (!(confidence(best) > 0.5)) throw new Error(`no test image of class '${label}' is judged right by every variant: the model is not fit to ship`);
    const image = `golden/${label}.png`;
    cv.imwrite(join(out, image), new cv.Mat(Buffer.from(images[best]!), h, w, cv.CV_8UC3));
    return { image, expect: label };
  });

  const files = [...MODEL_FILES, ...golden.map((g) => g.image)];
  const manifest = {
    name: a.name,
    version: a.version,
    engine: "onnx",
    default_variant: "int8",
    variants: {
      float32: { model: "model.onnx" },
      int8: { model: "model.int8.onnx", precision: "int8" },
      tfjs: { engine: "tfjs", model: "tfjs/model.json", input: { shape: [1, h, w, 3], layout: "NHWC" } },
    },
    input: {
      shape: [1, 3, h, w],
      layout: "NCHW",
      dtype: "float32",
      color: meta.input.color,
      resize: "stretch",
      normalize: { scale: meta.input_scale, mean: [0, 0, 0], std: [1, 1, 1] },
    },
    labels: meta.labels,
    ok_label: meta.ok_label,
    // Every class keeps its score: decide() weighs each defect's probability
    // against its threshold, as evaluate.py did.
    head: { type: "classify", activation: "softmax", top_k: meta.labels.length },
    thresholds: meta.thresholds,
    golden,
    files: files.map((f) => fileEntry(out, f)),
  };
  const header = `# Written by models/train/package.ts; see docs/model-package.md.${a.reproduce ? `\n# Reproduce: ${a.reproduce}` : ""}\n`;
  writeFileSync(join(out, "model.yaml"), header + stringify(manifest, { flow: false }));
  return files.length;
}

try {
  main(process.argv.slice(2));
} catch (err) {
  console.error(`package: ${(err as Error).message}`);
  process.exit(1);
}
