#!/usr/bin/env node
/**
 * Step 1 of the model toolchain: images → dataset.json + raw split arrays.
 *   export-dataset --out DIR --synthetic N [--seed S] [--defect-rate R] [--frame 640x480]
 *   export-dataset --out DIR --from FOLDER [--ok-label ok]      (FOLDER/<class>/*.png)
 * Both resize with the same OpenCV call at the model's input size.
 */
import { parseArgs } from "node:util";
import { folderSamples, listFolder, syntheticSamples, SYNTHETIC_LABELS, type InputSize, type Sample } from "./sources.js";
import { writeDataset } from "./dataset-file.js";

function size(name: string, v: string): InputSize {
  const m = /^(\d+)x(\d+)$/.exec(v);
  if (!m) throw new Error(`--${name} must be WIDTHxHEIGHT, e.g. 160x120, got '${v}'`);
  return { width: Number(m[1]), height: Number(m[2]) };
}

function count(name: string, v: string): number {
  if (!/^\d+$/.test(v)) throw new Error(`--${name} must be a whole number, got '${v}'`);
  return Number(v);
}

function main(argv: string[]): void {
  const { values: a } = parseArgs({
    args: argv,
    options: {
      out: { type: "string" },
      synthetic: { type: "string" },
      from: { type: "string" },
      seed: { type: "string", default: "1" },
      "defect-rate": { type: "string", default: "0.8" },
      frame: { type: "string", default: "640x480" },
      size: { type: "string", default: "160x120" },
      "ok-label": { type: "string", default: "ok" },
    },
    strict: true,
  });
  if (!a.out) throw new Error("--out DIR is required");
  if ((a.synthetic === undefined) === (a.from === undefined)) throw new Error("give exactly one of --synthetic N or --from FOLDER");
  const input = size("size", a.size!);
  const seed = count("seed", a.seed!);
  const okLabel = a["ok-label"]!;
  let samples: Sample[];
  let labels: string[];
  let source: string;
  const t0 = Date.now();
  if (a.synthetic !== undefined) {
    const parts = count("synthetic", a.synthetic);
    const defectRate = Number(a["defect-rate"]);
    if (!(defectRate >= 0 && defectRate <= 1)) throw new Error(`--defect-rate must be between 0 and 1, got '${a["defect-rate"]}'`);
    samples = [...syntheticSamples({ parts, seed, defectRate, frame: size("frame", a.frame!), size: input })];
    labels = SYNTHETIC_LABELS;
    source = `synthetic line seed ${seed}, ${parts} parts, defect rate ${defectRate}, frame ${a.frame}`;
  } else {
    const files = listFolder(a.from!, okLabel);
    labels = [okLabel, ...[...new Set(files.map((f) => f.label))].filter((l) => l !== okLabel)];
    samples = [...folderSamples(files, input)];
    source = `folder ${a.from}`;
  }
  const m = writeDataset(a.out, samples, { labels, okLabel, size: input, seed, source });
  const counts = Object.entries(m.class_counts)
    .map(([l, c]) => `${l} ${c.train}/${c.val}/${c.test}`)
    .join(", ");
  console.log(`dataset ${a.out}: ${samples.length} images at ${input.width}x${input.height} in ${((Date.now() - t0) / 1000).toFixed(1)} s; train/val/test per class: ${counts}`);
}

try {
  main(process.argv.slice(2));
} catch (err) {
  console.error(`export-dataset: ${(err as Error).message}`);
  process.exit(1);
}
