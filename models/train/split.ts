import { seededRandom } from "../../daemon/util/random.js";

export const SPLITS = ["train", "val", "test"] as const;
export type Split = (typeof SPLITS)[number];

/**
 * Stratified 3:1:1 split: each class is shuffled (seeded) and cut on its own,
 * so a rare class still lands in validation and test. A class needs at least
 * five samples for every split to get one.
 */
export function stratifiedSplit(labels: readonly number[], seed: number): Split[] {
  const byClass = new Map<number, number[]>();
  labels.forEach((l, i) => {
    const list = byClass.get(l) ?? [];
    list.push(i);
    byClass.set(l, list);
  });
  const out: Split[] = new Array<Split>(labels.length);
  const rnd = seededRandom(seed);
  for (const [cls, idx] of [...byClass.entries()].sort((a, b) => a[0] - b[0])) {
    if (idx.length < 5) throw new Error(`class ${cls} has ${idx.length} samples; a 3:1:1 split needs at least 5`);
    for (let i = idx.length - 1; i > 0; i--) {
      const j = Math.floor(rnd() * (i + 1));
      [idx[i], idx[j]] = [idx[j]!, idx[i]!];
    }
    const nVal = Math.max(1, Math.round(idx.length / 5));
    const nTest = nVal;
    idx.forEach((sample, k) => {
      out[sample] = k < nVal ? "val" : k < nVal + nTest ? "test" : "train";
    });
  }
  return out;
}
