import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stratifiedSplit } from "../../models/train/split.js";
import { folderSamples, listFolder, syntheticSamples } from "../../models/train/sources.js";
import { writeDataset } from "../../models/train/dataset-file.js";
import { cv } from "../../daemon/vision/opencv.js";

const SIZE = { width: 32, height: 24 };

function folder(layout: Record<string, string[]>): string {
  const root = mkdtempSync(join(tmpdir(), "dataset-"));
  for (const [path, files] of Object.entries(layout)) {
    mkdirSync(join(root, path), { recursive: true });
    for (const f of files) {
      if (f.endsWith("!")) writeFileSync(join(root, path, f.slice(0, -1)), "not a picture");
      else cv.imwrite(join(root, path, f), new cv.Mat(40, 60, cv.CV_8UC3).setTo(new cv.Vec3(90, 120, 150)));
    }
  }
  return root;
}

test("split is 3:1:1 within every class, and the same for the same seed", () => {
  const labels = [...Array(50).fill(0), ...Array(10).fill(1), ...Array(5).fill(2)] as number[];
  const split = stratifiedSplit(labels, 7);
  for (const [cls, n] of [[0, 50], [1, 10], [2, 5]] as const) {
    const mine = split.filter((_, i) => labels[i] === cls);
    assert.equal(mine.filter((s) => s === "val").length, n / 5);
    assert.equal(mine.filter((s) => s === "test").length, n / 5);
    assert.equal(mine.filter((s) => s === "train").length, (3 * n) / 5);
  }
  assert.deepEqual(stratifiedSplit(labels, 7), split);
  assert.notDeepEqual(stratifiedSplit(labels, 8), split);
  assert.throws(() => stratifiedSplit([0, 0, 0, 0, 0, 1, 1], 1), /class 1 has 2 samples; a 3:1:1 split needs at least 5/);
});

test("a user's class folders become a dataset at the model's input size", () => {
  const root = folder({ ok: ["a.png", "b.png", "c.png", "d.png", "e.png"], dent: ["1.png", "2.png", "3.png", "4.png", "5.jpg"] });
  const files = listFolder(root, "ok");
  assert.equal(files.length, 10);
  const samples = [...folderSamples(files, SIZE)];
  assert.ok(samples.every((s) => s.pixels.length === SIZE.width * SIZE.height * 3));
  // The pixels are the image's, BGR, through the daemon's resize.
  assert.deepEqual([...samples[0]!.pixels.subarray(0, 3)], [90, 120, 150]);
  const out = join(root, "out");
  const m = writeDataset(out, samples, { labels: ["ok", "dent"], okLabel: "ok", size: SIZE, seed: 1, source: "test" });
  assert.deepEqual(m.class_counts, { ok: { train: 3, val: 1, test: 1 }, dent: { train: 3, val: 1, test: 1 } });
  assert.equal(readFileSync(join(out, "train.u8")).length, 6 * SIZE.width * SIZE.height * 3);
  assert.equal(JSON.parse(readFileSync(join(out, "dataset.json"), "utf8")).splits.test.count, 2);
});

test("a wrong dataset folder is refused with what is wrong and where", () => {
  assert.throws(() => listFolder("/nonexistent/parts", "ok"), /dataset folder \/nonexistent\/parts does not exist/);
  const flat = folder({ ".": ["a.png", "b.png"] });
  assert.throws(() => listFolder(flat, "ok"), /has no class sub-folders; expected .*\/<class>\/\*\.png.*found 2 images directly inside it/);
  assert.throws(() => listFolder(folder({ ok: ["a.png"], ".": ["stray.png"] }), "ok"), /stray\.png: images must sit in a class sub-folder/);
  assert.throws(() => listFolder(folder({ good: ["a.png"], dent: ["b.png"] }), "ok"), /has no 'ok' class folder \(good parts\); classes found: dent, good/);
  assert.throws(() => listFolder(folder({ ok: ["a.png"], dent: [] }), "ok"), /class folder .*\/dent has no images/);
  assert.throws(() => listFolder(folder({ ok: ["a.png"], "bad name": ["b.png"] }), "ok"), /bad name: class names may only use letters/);
  const broken = folder({ ok: ["a.png", "b.png!"] });
  assert.throws(() => [...folderSamples(listFolder(broken, "ok"), SIZE)], /ok\/b\.png: cannot read image/);
});

test("synthetic samples carry the line's ground truth as their label", () => {
  const samples = [...syntheticSamples({ parts: 20, seed: 3, defectRate: 0.5, frame: { width: 320, height: 240 }, size: SIZE })];
  const labels = new Set(samples.map((s) => s.label));
  assert.ok(labels.has("ok") && labels.size > 1, [...labels].join(","));
  assert.ok(samples.every((s) => /^synthetic seed 3 part \d+$/.test(s.origin)));
});
