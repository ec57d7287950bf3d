import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { writeSyntheticDataset } from "../../daemon/capture/synthetic-dataset.js";
import { renderPart } from "../../daemon/capture/synthetic-line.js";
import { readTruthFile } from "../../daemon/capture/truth-file.js";
import { checksum, collect, newCamera, tempDir } from "./camera-fixtures.js";

const PARTS = 12;
const LINE = { width: 320, height: 240, seed: 11, defectRate: 0.5 };

function expected(): string[] {
  return Array.from({ length: PARTS }, (_, i) => checksum(renderPart(LINE, i).image.getData()));
}

test("a synthetic video (lossless FFV1) reads back frame-exact through a file camera", async (t) => {
  const dir = tempDir(t);
  writeSyntheticDataset({ out: dir, parts: PARTS, seed: LINE.seed, defectRate: LINE.defectRate, width: 320, height: 240, fps: 25, video: "line.avi", images: false });
  const camera = newCamera({ type: "file", path: join(dir, "line.avi"), pacing: "fast", truth: join(dir, "truth.json") });
  const frames = await collect(camera, (f) => f.length >= PARTS, 10_000);
  // Played once: no frame beyond the file's own.
  assert.equal(frames.length, PARTS);
  assert.deepEqual(frames.map((f) => checksum(f.data)), expected());
  assert.deepEqual(frames.map((f) => f.seq), [...Array(PARTS).keys()]);
  for (let i = 1; i < PARTS; i++) assert.ok(frames[i]!.tCaptureMs >= frames[i - 1]!.tCaptureMs);
  const truth = readTruthFile(join(dir, "truth.json"));
  assert.deepEqual(
    frames.map((f) => f.truth?.defect ?? "ok"),
    truth.parts.map((p) => p.class),
  );
  const s = camera.stats();
  assert.equal(s.frames, PARTS);
  assert.equal(s.drops, 0, "fast pacing waits for the pipeline instead of dropping");
});

test("an image folder plays in name order, pixel-exact, with its ground truth", async (t) => {
  const dir = tempDir(t);
  writeSyntheticDataset({ out: dir, parts: PARTS, seed: LINE.seed, defectRate: LINE.defectRate, width: 320, height: 240, fps: 25, images: true });
  const camera = newCamera({ type: "folder", path: join(dir, "images"), pacing: "fast", truth: join(dir, "truth.json") });
  const frames = await collect(camera, (f) => f.length >= PARTS, 10_000);
  assert.equal(frames.length, PARTS);
  assert.deepEqual(frames.map((f) => checksum(f.data)), expected());
  const truth = readTruthFile(join(dir, "truth.json"));
  assert.deepEqual(frames.map((f) => f.truth?.box ?? null), truth.parts.map((p) => p.bbox));
});

test("the synthetic line renders the same pixels and truth for the same seed", () => {
  const a = renderPart(LINE, 5);
  const b = renderPart(LINE, 5);
  assert.equal(checksum(a.image.getData()), checksum(b.image.getData()));
  assert.deepEqual(a.truth, b.truth);
  assert.notEqual(checksum(renderPart({ ...LINE, seed: 12 }, 5).image.getData()), checksum(a.image.getData()));
});

test("a looping folder with realtime pacing keeps going past its end", async (t) => {
  const dir = tempDir(t);
  writeSyntheticDataset({ out: dir, parts: 3, seed: 1, defectRate: 0, width: 160, height: 120, fps: 25, images: true });
  const camera = newCamera({ type: "folder", path: join(dir, "images"), loop: true, fps: 100 });
  const frames = await collect(camera, (f) => f.length >= 8);
  assert.ok(frames.length >= 8);
  // Eight frames out of three images: it went past the end and started again, whichever late reads realtime pacing dropped.
  const images = new Set(frames.map((f) => checksum(f.data)));
  assert.ok(images.size <= 3, `${images.size} different frames from 3 images`);
});

test("a replay camera decodes its recording once and plays it again and again, frame-exact, with its ground truth", async (t) => {
  const dir = tempDir(t);
  writeSyntheticDataset({ out: dir, parts: PARTS, seed: LINE.seed, defectRate: LINE.defectRate, width: 320, height: 240, fps: 25, video: "line.avi", images: true });
  const want = expected();
  for (const path of [join(dir, "line.avi"), join(dir, "images")]) {
    const camera = newCamera({ type: "replay", path, fps: 200, truth: join(dir, "truth.json") });
    const seen = new WeakMap<object, number>();
    const at = (f: { data: Buffer }) => seen.get(f) ?? (seen.set(f, want.indexOf(checksum(f.data))), seen.get(f)!);
    // Until every frame of the recording came round three times: it loops, from memory.
    const rounds = (frames: Array<{ data: Buffer }>) => Math.min(...want.map((_, i) => frames.filter((f) => at(f) === i).length));
    const frames = await collect(camera, (f) => rounds(f) >= 3, 30_000);
    assert.ok(rounds(frames) >= 3, `${path}: ${frames.length} frames, some recording frame seen fewer than 3 times`);
    frames.forEach((f, i) => assert.ok(at(f) >= 0, `${path}: frame ${i} is not one of the recording's`));
    const truth = readTruthFile(join(dir, "truth.json"));
    frames.forEach((f) => assert.equal(f.truth?.defect ?? "ok", truth.parts[at(f)]!.class));
  }
});

test("a recording larger than camera.max_mb once decoded is refused at open with E_CAMERA_REPLAY, not cut short", async (t) => {
  const dir = tempDir(t);
  writeSyntheticDataset({ out: dir, parts: PARTS, seed: LINE.seed, defectRate: LINE.defectRate, width: 320, height: 240, fps: 25, video: "line.avi", images: false });
  const camera = newCamera({ type: "replay", path: join(dir, "line.avi"), fps: 25, max_mb: 1, reconnect: { initial_ms: 10_000 } });
  await assert.rejects(camera.start(() => undefined), (e: unknown) => {
    assert.equal((e as { code?: string }).code, "E_CAMERA_REPLAY");
    assert.match((e as Error).message, /more than camera\.max_mb \(1 MB\).*after 4 frames/);
    return true;
  });
  await camera.stop();
});
