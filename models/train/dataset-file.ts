import { mkdirSync, writeFileSync, openSync, writeSync, closeSync } from "node:fs";
import { join } from "node:path";
import type { InputSize, Sample } from "./sources.js";
import { SPLITS, stratifiedSplit, type Split } from "./split.js";

/**
 * What the trainer reads: dataset.json plus one raw uint8 NHWC (BGR) array per
 * split. Raw arrays keep the exact pixels the daemon's resize produced, so
 * training and the running station see the same input.
 */
export interface DatasetManifest {
  format: "edge-inspect-dataset/1";
  source: string;
  labels: string[];
  ok_label: string;
  input: { height: number; width: number; channels: 3; color: "BGR" };
  splits: Record<Split, { file: string; count: number; labels: number[]; origins: string[] }>;
  class_counts: Record<string, Record<Split, number>>;
}

/**
 * `allTest`: every sample goes to the test split, for a set only ever
 * evaluated on (parts of unseen line seeds, defect kinds never trained on).
 */
export function writeDataset(
  outDir: string,
  samples: Sample[],
  o: { labels: string[]; okLabel: string; size: InputSize; seed: number; source: string; allTest?: boolean },
): DatasetManifest {
  const index = new Map(o.labels.map((l, i) => [l, i]));
  const labelIds = samples.map((s) => {
    const id = index.get(s.label);
    if (id === undefined) throw new Error(`${s.origin}: label '${s.label}' is not one of ${o.labels.join(", ")}`);
    return id;
  });
  for (const l of o.labels) {
    if (!labelIds.includes(index.get(l)!)) throw new Error(`class '${l}' has no samples`);
  }
  const split: Split[] = o.allTest ? labelIds.map(() => "test") : stratifiedSplit(labelIds, o.seed);
  mkdirSync(outDir, { recursive: true });
  const bytes = o.size.width * o.size.height * 3;
  const splits = {} as DatasetManifest["splits"];
  for (const name of SPLITS) {
    const file = `${name}.u8`;
    const fd = openSync(join(outDir, file), "w");
    const entry = { file, count: 0, labels: [] as number[], origins: [] as string[] };
    samples.forEach((s, i) => {
      if (split[i] !== name) return;
      if (s.pixels.length !== bytes) throw new Error(`${s.origin}: ${s.pixels.length} bytes after resize, expected ${bytes}`);
      writeSync(fd, s.pixels);
      entry.count++;
      entry.labels.push(labelIds[i]!);
      entry.origins.push(s.origin);
    });
    closeSync(fd);
    splits[name] = entry;
  }
  const class_counts = Object.fromEntries(
    o.labels.map((l, li) => [l, Object.fromEntries(SPLITS.map((sp) => [sp, splits[sp].labels.filter((x) => x === li).length]))]),
  ) as DatasetManifest["class_counts"];
  const manifest: DatasetManifest = {
    format: "edge-inspect-dataset/1",
    source: o.source,
    labels: o.labels,
    ok_label: o.okLabel,
    input: { height: o.size.height, width: o.size.width, channels: 3, color: "BGR" },
    splits,
    class_counts,
  };
  writeFileSync(join(outDir, "dataset.json"), JSON.stringify(manifest, null, 1) + "\n");
  return manifest;
}
