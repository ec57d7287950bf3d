#!/usr/bin/env node
/**
 * Step 1 of the model toolchain: images → dataset.json + raw split arrays.
 *   export-dataset --out DIR --synthetic N [--seed S] [--defect-rate R] [--frame 640x480]
 *                  [--novel all|K1,K2 --novel-rate R] [--evaluation]
 *   export-dataset --out DIR --from FOLDER [--ok-label ok] [--good-only]   (FOLDER/<class>/*.png)
 * Both resize with the same OpenCV call at the model's input size. The
 * labels are the classes present, in the line's order. --novel draws defect
 * kinds no model is trained on; --evaluation puts every part in the test
 * split (a set only ever evaluated on); --good-only reads FOLDER/ok only.
 */
import { parseArgs } from "node:util";
import { folderSamples, listFolder, syntheticSamples, SYNTHETIC_ALL_LABELS, type InputSize, type Sample } from "./sources.js";
import { NOVEL_DEFECTS, type NovelDefect } from "../../daemon/capture/novel-kinds.js";
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
      novel: { type: "string" },
      "novel-rate": { type: "string", default: "0.3" },
      evaluation: { type: "boolean", default: false },
      "good-only": { type: "boolean", default: false },
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
    const novel = a.novel === undefined ? undefined : { kinds: novelKinds(a.novel), rate: Number(a["novel-rate"]) };
    if (novel && !(novel.rate >= 0 && novel.rate <= 1)) throw new Error(`--novel-rate must be between 0 and 1, got '${a["novel-rate"]}'`);
    samples = [...syntheticSamples({ parts, seed, defectRate, ...(novel ? { novel } : {}), frame: size("frame", a.frame!), size: input })];
    const present = new Set(samples.map((s) => s.label));
    labels = SYNTHETIC_ALL_LABELS.filter((l) => present.has(l));
    source = `synthetic line seed ${seed}, ${parts} parts, defect rate ${defectRate}${novel ? `, novel ${novel.kinds.join("+")} at ${novel.rate}` : ""}, frame ${a.frame}`;
  } else {
    const files = listFolder(a.from!, okLabel).filter((f) => !a["good-only"] || f.label === okLabel);
    labels = [okLabel, ...[...new Set(files.map((f) => f.label))].filter((l) => l !== okLabel)];
    samples = [...folderSamples(files, input)];
    source = `folder ${a.from}`;
  }
  const m = writeDataset(a.out, samples, { labels, okLabel, size: input, seed, source, allTest: a.evaluation! });
  const counts = Object.entries(m.class_counts)
    .map(([l, c]) => `${l} ${c.train}/${c.val}/${c.test}`)
    .join(", ");
  console.log(`dataset ${a.out}: ${samples.length} images at ${input.width}x${input.height} in ${((Date.now() - t0) / 1000).toFixed(1)} s; train/val/test per class: ${counts}`);
}

function novelKinds(v: string): NovelDefect[] {
  if (v === "all") return [...NOVEL_DEFECTS];
  return v.split(",").map((k) => {
    if (!(NOVEL_DEFECTS as readonly string[]).includes(k)) throw new Error(`--novel: unknown kind '${k}'; kinds are ${NOVEL_DEFECTS.join(", ")} (or all)`);
    return k as NovelDefect;
  });
}

try {
  main(process.argv.slice(2));
} catch (err) {
  console.error(`export-dataset: ${(err as Error).message}`);
  process.exit(1);
}
