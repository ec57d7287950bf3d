#!/usr/bin/env node
/**
 * Step 5: a trained, quantized and evaluated model folder → a model package
 * (docs/model-package.md): the ONNX float and int8 files, the TF.js layers
 * model, golden images, evaluation.json and model.yaml with every file's
 * sha256 and size; with --anomaly, the anomaly head's float and int8 models
 * beside them (or alone, without --model: a package trained on good parts only).
 *   package [--model DIR] [--anomaly DIR --anomaly-data DIR [--sets DIR,DIR]] --data DIR --out PACKAGE_DIR --name NAME [--version 1.0.0]
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { basename, dirname, join } from "node:path";
import { parseArgs } from "node:util";
import { stringify } from "yaml";
import { cv } from "../../daemon/vision/opencv.js";
import { readSplit } from "./split-file.js";

const MODEL_FILES = ["model.onnx", "model.int8.onnx", "tfjs/model.json", "tfjs/weights.bin"];
const ANOMALY_FILES = ["anomaly.onnx", "anomaly.int8.onnx"];
const ANOMALY_CLASS = "anomaly";

/** What evaluate_anomaly.py wrote. */
interface AnomalyEval {
  threshold: number;
  target_false_reject_rate: number;
}

type Runs = { labels: number[]; models: Record<string, { logits: number[][] }> };

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
      anomaly: { type: "string" },
      "anomaly-data": { type: "string" },
      sets: { type: "string" },
      data: { type: "string" },
      out: { type: "string" },
      name: { type: "string" },
      version: { type: "string", default: "1.0.0" },
      reproduce: { type: "string" },
    },
    strict: true,
  });
  if (!(a.model || a.anomaly) || !a.data || !a.out || !a.name) throw new Error("--model and/or --anomaly, --data, --out and --name are required");
  if (a.anomaly && !a["anomaly-data"]) throw new Error("--anomaly needs --anomaly-data (the dataset it trained on)");
  const reader = (dir: string, steps: string) => (f: string) => {
    try {
      return readFileSync(join(dir, f), "utf8");
    } catch {
      throw new Error(`${join(dir, f)} not found: run the ${steps} first`);
    }
  };
  const read = a.model ? reader(a.model, "train, quantize and evaluate steps") : undefined;
  const readAnomaly = a.anomaly ? reader(a.anomaly, "anomaly step") : undefined;
  let meta: TrainMeta;
  let evaluation: Record<string, unknown> = {};
  if (read) {
    meta = JSON.parse(read("train.json")) as TrainMeta;
    evaluation = JSON.parse(read("evaluation.json")) as Record<string, unknown>;
    // The thresholds shipped are the ones evaluate chose for the int8 model on
    // validation (train.json's were chosen for the float one).
    const chosen = evaluation.thresholds as Record<string, number> | undefined;
    if (chosen) meta.thresholds = chosen;
  } else {
    const t = JSON.parse(readAnomaly!("train.json")) as Omit<TrainMeta, "labels" | "thresholds">;
    meta = { ...t, labels: [t.ok_label], thresholds: {} };
  }
  const anomaly = readAnomaly ? (JSON.parse(readAnomaly("anomaly.json")) as AnomalyEval & Record<string, unknown>) : undefined;
  if (anomaly) evaluation.anomaly = anomaly;

  const count = replaceAtomically(a.out, (out) => writePackage(a as Args, out, meta, JSON.stringify(evaluation, null, 1), read, readAnomaly, anomaly));
  console.log(`package ${a.out}: ${count} files, labels ${meta.labels.join(", ")}${anomaly ? `, anomaly head (threshold ${anomaly.threshold.toFixed(4)})` : ""}`);
}

interface Args {
  model?: string;
  anomaly?: string;
  "anomaly-data"?: string;
  sets?: string;
  data: string;
  name: string;
  version: string;
  reproduce?: string;
}

/** Writes every file of the package into `out`; returns how many the manifest lists. */
function writePackage(
  a: Args,
  out: string,
  meta: TrainMeta,
  evaluation: string,
  read: ((f: string) => string) | undefined,
  readAnomaly: ((f: string) => string) | undefined,
  anomaly: AnomalyEval | undefined,
): number {
  const copied = [...(a.model ? MODEL_FILES.map((f) => [a.model!, f]) : []), ...(a.anomaly ? ANOMALY_FILES.map((f) => [a.anomaly!, f]) : [])];
  for (const [from, f] of copied) {
    mkdirSync(dirname(join(out, f!)), { recursive: true });
    copyFileSync(join(from!, f!), join(out, f!));
  }
  writeFileSync(join(out, "evaluation.json"), evaluation);

  // Golden images: the loader refuses a package whose model no longer judges
  // them so, before a hot swap puts it in service. Per class, the test image
  // every variant judges right with the widest margin; with an anomaly head,
  // the good one is a held-out good part both heads pass with the widest
  // margin, and one part of a kind never trained on that only the anomaly
  // head rejects shows it at work.
  const { width: w, height: h } = meta.input;
  mkdirSync(join(out, "golden"));
  const save = (label: string, pixels: Buffer) => {
    const image = `golden/${label}.png`;
    cv.imwrite(join(out, image), new cv.Mat(Buffer.from(pixels), h, w, cv.CV_8UC3));
    return { image, expect: label };
  };
  const argmax = <T>(items: T[], score: (t: T) => number) => items.reduce((b, t) => (score(t) > score(b) ? t : b), items[0]!);
  // How far every classifier variant is from rejecting image i (decide's rule: a defect class at its threshold).
  const classifierPass = (runs: Runs, i: number) =>
    Math.min(
      ...["float", "int8"].flatMap((v) =>
        softmax(runs.models[v]!.logits[i]!).flatMap((p, c) => (c === okIndex ? [] : [(meta.thresholds[meta.labels[c]!] ?? meta.thresholds.default ?? 0.5) - p])),
      ),
    );
  const anomalyMargin = (runs: Runs, i: number) =>
    Math.min(...["anomaly_float", "anomaly_int8"].map((v) => (anomaly!.threshold - runs.models[v]!.logits[i]![0]!) / anomaly!.threshold));
  const golden: { image: string; expect: string }[] = [];
  const okIndex = meta.labels.indexOf(meta.ok_label);
  if (read) {
    const runs = JSON.parse(read("onnxruntime.json")) as Runs;
    const { images, labels } = readSplit(a.data, "test");
    meta.labels.forEach((label, li) => {
      if (anomaly && li === okIndex) return;
      const confidence = (i: number) => Math.min(...Object.values(runs.models).map((m) => softmax(m.logits[i]!)[li]!));
      const best = argmax(labels.flatMap((l, i) => (l === li ? [i] : [])), confidence);
      if (!(confidence(best) > 0.5)) throw new Error(`no test image of class '${label}' is judged right by every variant: the model is not fit to ship`);
      golden.push(save(label, images[best]!));
    });
  }
  if (anomaly) {
    const runs = JSON.parse(readAnomaly!("onnxruntime.json")) as Runs;
    const { images, labels, manifest } = readSplit(a["anomaly-data"]!, "test");
    const ok = manifest.labels.indexOf(manifest.ok_label);
    const margin = (i: number) => Math.min(anomalyMargin(runs, i), read ? classifierPass(runs, i) : 1);
    const best = argmax(labels.flatMap((l, i) => (l === ok ? [i] : [])), margin);
    if (best === undefined || !(margin(best) > 0)) throw new Error("no held-out good part passes every variant: the model is not fit to ship");
    golden.unshift(save(meta.ok_label, images[best]!));
    const novel = novelGolden(a, anomalyMargin, read ? classifierPass : undefined);
    if (novel) golden.push(save(ANOMALY_CLASS, novel));
  }

  const files = [...copied.map(([, f]) => f!), ...golden.map((g) => g.image)];
  const variants = a.model
    ? {
        float32: { model: "model.onnx", ...(anomaly ? { anomaly_model: "anomaly.onnx" } : {}) },
        int8: { model: "model.int8.onnx", ...(anomaly ? { anomaly_model: "anomaly.int8.onnx" } : {}), precision: "int8" },
        // TF.js runs the classifier only (docs/model-package.md, Anomaly head).
        tfjs: { engine: "tfjs", model: "tfjs/model.json", input: { shape: [1, h, w, 3], layout: "NHWC" } },
      }
    : { float32: { anomaly_model: "anomaly.onnx" }, int8: { anomaly_model: "anomaly.int8.onnx", precision: "int8" } };
  const manifest = {
    name: a.name,
    version: a.version,
    engine: "onnx",
    default_variant: "int8",
    variants,
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
    ...(a.model ? { head: { type: "classify", activation: "softmax", top_k: meta.labels.length }, thresholds: meta.thresholds } : {}),
    ...(anomaly
      ? {
          anomaly: {
            threshold: anomaly.threshold,
            score_output: "anomaly_score",
            map_output: "anomaly_map",
            target_false_reject_rate: anomaly.target_false_reject_rate,
          },
        }
      : {}),
    golden,
    files: files.map((f) => fileEntry(out, f)),
  };
  const header = `# Written by models/train/package.ts; see docs/model-package.md.${a.reproduce ? `\n# Reproduce: ${a.reproduce}` : ""}\n`;
  writeFileSync(join(out, "model.yaml"), header + stringify(manifest, { flow: false }));
  return files.length;
}

/**
 * A part of the evaluation sets with a kind no model trained on that every
 * anomaly variant rejects with the widest margin while the classifier (if
 * any) passes it: its expected verdict is the anomaly head's. None without
 * evaluation sets.
 */
function novelGolden(
  a: Args,
  anomalyMargin: (runs: Runs, i: number) => number,
  classifierPass: ((runs: Runs, i: number) => number) | undefined,
): Buffer | undefined {
  const known = new Set(JSON.parse(readFileSync(join(a.data, "dataset.json"), "utf8")).labels as string[]);
  let best: { pixels: Buffer; margin: number } | undefined;
  for (const dir of (a.sets ?? "").split(",").filter(Boolean)) {
    const runs = JSON.parse(readFileSync(join(a.anomaly!, `onnxruntime-${basename(dir)}.json`), "utf8")) as Runs;
    const { images, labels, manifest } = readSplit(dir, "test");
    labels.forEach((l, i) => {
      if (known.has(manifest.labels[l]!)) return;
      const margin = Math.min(-anomalyMargin(runs, i), classifierPass ? classifierPass(runs, i) : 1);
      if (margin > 0 && (!best || margin > best.margin)) best = { pixels: images[i]!, margin };
    });
  }
  return best?.pixels;
}

try {
  main(process.argv.slice(2));
} catch (err) {
  console.error(`package: ${(err as Error).message}`);
  process.exit(1);
}
