#!/usr/bin/env node
/**
 * Runs ONNX models through onnxruntime-node on a dataset split, writing each
 * one's logits, size and latency:
 *   run-onnx --model NAME=FILE [--model NAME=FILE ...] --data DIR --out FILE.json
 *            [--split test] [--reference NAME=FILE] [--tolerance 1e-3] [--threads 1]
 * --reference checks that model's logits against the trained network's.
 * Each model is fed as the daemon would feed it, by its input's type: a
 * float32 input gets pixel/255, a uint8 one (the int8 model) the pixels.
 * Latency is single-image after warm-up, the models measured in alternating
 * rounds so that a busy machine slows them alike and their ratio holds;
 * --rounds 0 writes logits only.
 */
import { readFileSync, statSync, writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import * as ort from "onnxruntime-node";
import { readSplit, toPlanar } from "./split-file.js";
import { SPLITS, type Split } from "./split.js";

interface Reference {
  shape: [number, number, number];
  pixels: string[];
  logits: number[][];
}

function named(v: string): [string, string] {
  const i = v.indexOf("=");
  if (i <= 0) throw new Error(`expected NAME=FILE, got '${v}'`);
  return [v.slice(0, i), v.slice(i + 1)];
}

async function main(argv: string[]): Promise<void> {
  const { values: a } = parseArgs({
    args: argv,
    options: {
      model: { type: "string", multiple: true },
      data: { type: "string" },
      out: { type: "string" },
      split: { type: "string", default: "test" },
      reference: { type: "string" },
      tolerance: { type: "string", default: "1e-3" },
      threads: { type: "string", default: "1" },
      rounds: { type: "string", default: "10" },
      "runs-per-round": { type: "string", default: "50" },
    },
    strict: true,
  });
  if (!a.model?.length || !a.data || !a.out) throw new Error("--model NAME=FILE, --data and --out are required");
  const split = a.split as Split;
  if (!SPLITS.includes(split)) throw new Error(`--split must be one of ${SPLITS.join(", ")}`);
  const { manifest, images, labels } = readSplit(a.data, split);
  const { width: w, height: h } = manifest.input;
  const threads = Number(a.threads);
  const models = await Promise.all(
    a.model.map(async (spec) => {
      const [name, file] = named(spec);
      const session = await ort.InferenceSession.create(file, {
        intraOpNumThreads: threads,
        interOpNumThreads: 1,
        executionMode: "sequential",
        graphOptimizationLevel: "all",
      });
      const meta = session.inputMetadata[0];
      const dtype = meta && meta.isTensor && meta.type === "uint8" ? ("uint8" as const) : ("float32" as const);
      return { name, file, session, dtype, times: [] as number[] };
    }),
  );
  const run = async (m: (typeof models)[number], hwc: Uint8Array): Promise<number[]> => {
    const out = await m.session.run({ [m.session.inputNames[0]!]: new ort.Tensor(m.dtype, toPlanar(hwc, w, h, m.dtype), [1, 3, h, w]) });
    return Array.from(out[m.session.outputNames[0]!]!.data as Float32Array);
  };

  let referenceError: number | undefined;
  if (a.reference) {
    const [name, file] = named(a.reference);
    const m = models.find((x) => x.name === name);
    if (!m) throw new Error(`--reference names model '${name}', which is not given with --model`);
    const ref = JSON.parse(readFileSync(file, "utf8")) as Reference;
    let err = 0;
    for (const [i, b64] of ref.pixels.entries()) {
      const got = await run(m, Buffer.from(b64, "base64"));
      got.forEach((v, j) => (err = Math.max(err, Math.abs(v - ref.logits[i]![j]!))));
    }
    const tol = Number(a.tolerance);
    if (!(err <= tol)) throw new Error(`${m.file}: logits differ from the trained network's by ${err} (tolerance ${tol})`);
    referenceError = err;
  }

  const logits: Record<string, number[][]> = {};
  for (const m of models) {
    logits[m.name] = [];
    for (const img of images) logits[m.name]!.push(await run(m, img));
  }

  const inputs = new Map(models.map((m) => [m, toPlanar(images[0]!, w, h, m.dtype)]));
  const once = async (m: (typeof models)[number]) => m.session.run({ [m.session.inputNames[0]!]: new ort.Tensor(m.dtype, inputs.get(m)!, [1, 3, h, w]) });
  if (Number(a.rounds) > 0) for (const m of models) for (let i = 0; i < 30; i++) await once(m);
  for (let r = 0; r < Number(a.rounds); r++) {
    for (const m of models) {
      for (let i = 0; i < Number(a["runs-per-round"]); i++) {
        const t0 = process.hrtime.bigint();
        await once(m);
        m.times.push(Number(process.hrtime.bigint() - t0) / 1e6);
      }
    }
  }
  const result = {
    split,
    labels,
    threads,
    reference_max_abs_error: referenceError ?? null,
    models: Object.fromEntries(
      models.map((m) => {
        const t = [...m.times].sort((x, y) => x - y);
        const q = (p: number) => t[Math.min(t.length - 1, Math.floor(p * t.length))]!;
        const latency = t.length ? { median: q(0.5), p90: q(0.9), min: t[0]!, runs: t.length } : null;
        return [m.name, { file: m.file, input: m.dtype, size_bytes: statSync(m.file).size, logits: logits[m.name], latency_ms: latency }];
      }),
    ),
  };
  writeFileSync(a.out, JSON.stringify(result));
  for (const [name, r] of Object.entries(result.models)) {
    const latency = r.latency_ms ? `, latency median ${r.latency_ms.median.toFixed(3)} ms` : "";
    console.log(`${name}: ${r.file} (${r.input} input), ${r.size_bytes} bytes, ${images.length} ${split} images${latency}`);
  }
  if (referenceError !== undefined) console.log(`max |logit - trained network| ${referenceError.toExponential(2)}`);
  for (const m of models) await m.session.release();
}

main(process.argv.slice(2)).catch((err: unknown) => {
  console.error(`run-onnx: ${(err as Error).message}`);
  process.exit(1);
});
