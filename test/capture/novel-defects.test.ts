import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { writeFileSync } from "node:fs";
import { cv, type Mat } from "../../daemon/vision/opencv.js";
import { renderPart, DEFECT_CLASSES, PART_TYPES, type LineSettings } from "../../daemon/capture/synthetic-line.js";
import { NOVEL_DEFECTS } from "../../daemon/capture/novel-kinds.js";
import { writeSyntheticDataset } from "../../daemon/capture/synthetic-dataset.js";
import { fromTruthPart, readTruthFile } from "../../daemon/capture/truth-file.js";
import { syntheticSamples, SYNTHETIC_LABELS } from "../../models/train/sources.js";
import { cmdSynth } from "../../daemon/cli/synth.js";
import { errorCode } from "../../daemon/util/errors.js";
import { formatSummary } from "../../daemon/pipeline/run-stats.js";
import { App } from "../../daemon/app.js";
import { lineConfig, runParts } from "../fakes/line.js";
import { quietLog } from "../fakes/quiet-log.js";
import { cameraConfig, checksum, tempDir } from "./camera-fixtures.js";

const GOOD_LINE: LineSettings = { width: 640, height: 480, seed: 23, defectRate: 0 };
/** Enough parts that every part type shows up for every kind. */
const INDICES = [...Array(9).keys()];

function only(kind: (typeof NOVEL_DEFECTS)[number]): LineSettings {
  return { ...GOOD_LINE, novel: { kinds: [kind], rate: 1 } };
}

/** Single-channel mask of every pixel where any channel differs. */
function changed(a: Mat, b: Mat): Mat {
  return a.absdiff(b).threshold(0, 255, cv.THRESH_BINARY).cvtColor(cv.COLOR_BGR2GRAY).threshold(0, 255, cv.THRESH_BINARY);
}

for (const kind of NOVEL_DEFECTS) {
  test(`${kind}: same seed, same pixels and truth; another seed, other pixels`, () => {
    for (const i of [0, 4]) {
      const a = renderPart(only(kind), i);
      const b = renderPart(only(kind), i);
      assert.equal(checksum(a.image.getData()), checksum(b.image.getData()));
      assert.deepEqual(a.truth, b.truth);
      assert.equal(a.truth.defect, kind);
      assert.equal(a.truth.novel, true);
      const other = renderPart({ ...only(kind), seed: GOOD_LINE.seed + 1 }, i);
      assert.notEqual(checksum(other.image.getData()), checksum(a.image.getData()));
    }
  });

  test(`${kind}: the box holds every pixel it changed against the same part without it`, () => {
    const types = new Set<string>();
    for (const i of INDICES) {
      const withIt = renderPart(only(kind), i);
      const without = renderPart(GOOD_LINE, i);
      assert.equal(without.truth.defect, null);
      assert.equal(withIt.truth.partType, without.truth.partType, "the same part underneath");
      types.add(withIt.truth.partType);
      const box = withIt.truth.box!;
      const diff = changed(withIt.image, without.image);
      const total = diff.countNonZero();
      const area = box[2] * box[3];
      // Visible: a share of its box changed, not a stray pixel (a wrong part's
      // oversized holes change rings spread over the part: the lowest share).
      assert.ok(total >= area * 0.05, `part ${i}: ${total} changed pixels in a box of ${area}`);
      diff.getRegion(new cv.Rect(...box)).setTo(0);
      assert.equal(diff.countNonZero(), 0, `part ${i}: pixels changed outside box ${JSON.stringify(box)}`);
    }
    assert.deepEqual([...types].sort(), [...PART_TYPES].sort());
  });
}

test("novel parts leave every other part of the line as the plain line draws it", () => {
  const plain: LineSettings = { width: 320, height: 240, seed: 9, defectRate: 0.4 };
  const mixed: LineSettings = { ...plain, novel: { kinds: NOVEL_DEFECTS, rate: 0.3 } };
  let novel = 0;
  for (let i = 0; i < 40; i++) {
    const m = renderPart(mixed, i);
    const p = renderPart(plain, i);
    if (m.truth.novel) {
      novel++;
      assert.ok((NOVEL_DEFECTS as readonly string[]).includes(m.truth.defect!), m.truth.defect!);
    } else {
      assert.equal(checksum(m.image.getData()), checksum(p.image.getData()), `part ${i}`);
      assert.deepEqual(m.truth, p.truth);
    }
  }
  assert.ok(novel > 0 && novel < 40, `${novel} novel of 40`);
  // A rate of 0 is the plain line, byte for byte.
  for (const i of [0, 1, 2]) {
    assert.equal(checksum(renderPart({ ...plain, novel: { kinds: NOVEL_DEFECTS, rate: 0 } }, i).image.getData()), checksum(renderPart(plain, i).image.getData()));
  }
});

test("truth files name each novel part's kind and flag it, and read back as the line drew them", (t) => {
  const dir = tempDir(t);
  const o = { out: dir, parts: 24, seed: 4, defectRate: 0.3, width: 320, height: 240, fps: 10, images: true } as const;
  writeSyntheticDataset({ ...o, novelDefects: ["dent", "discoloration"], novelRate: 0.4 });
  const truth = readTruthFile(join(dir, "truth.json"));
  assert.deepEqual(truth.novel_defects, ["dent", "discoloration"]);
  assert.equal(truth.novel_rate, 0.4);
  const novel = truth.parts.filter((p) => p.novel);
  assert.ok(novel.length > 0, "some novel parts");
  for (const p of novel) assert.ok(["dent", "discoloration"].includes(p.class) && p.bbox !== null, JSON.stringify(p));
  for (const p of truth.parts.filter((q) => !q.novel)) assert.ok(["ok", ...DEFECT_CLASSES].includes(p.class), p.class);
  const line: LineSettings = { width: 320, height: 240, seed: 4, defectRate: 0.3, novel: { kinds: ["dent", "discoloration"], rate: 0.4 } };
  truth.parts.forEach((p, i) => assert.deepEqual(fromTruthPart(p), renderPart(line, i).truth, `part ${i}`));
  const png = cv.imread(join(dir, novel[0]!.file!));
  assert.equal(checksum(png.getData()), checksum(renderPart(line, novel[0]!.frame).image.getData()));
});

test("a truth file whose novel flag is not true is refused with E_TRUTH_MALFORMED", (t) => {
  const dir = tempDir(t);
  const file = join(dir, "truth.json");
  const head = { generator: "edge-inspect synth", seed: 1, defect_rate: 0, width: 64, height: 64, fps: 1, video: null };
  for (const novel of [false, "yes", 1]) {
    writeFileSync(file, JSON.stringify({ ...head, parts: [{ frame: 0, file: null, part_type: "disc", class: "dent", bbox: [1, 1, 2, 2], novel }] }));
    assert.throws(() => readTruthFile(file), (e) => errorCode(e) === "E_TRUTH_MALFORMED" && /parts\.0\.novel/.test((e as Error).message));
  }
});

test("by default neither a synthetic dataset nor a training set holds a novel part", (t) => {
  const dir = tempDir(t);
  writeSyntheticDataset({ out: dir, parts: 60, seed: 3, defectRate: 0.8, width: 320, height: 240, fps: 10, images: false, video: "line.avi" });
  const truth = readTruthFile(join(dir, "truth.json"));
  assert.equal(truth.novel_defects, undefined);
  assert.deepEqual(truth.parts.filter((p) => p.novel || !["ok", ...DEFECT_CLASSES].includes(p.class)), []);
  const samples = [...syntheticSamples({ parts: 60, seed: 3, defectRate: 0.8, frame: { width: 320, height: 240 }, size: { width: 32, height: 24 } })];
  assert.deepEqual(samples.filter((s) => !SYNTHETIC_LABELS.includes(s.label)), []);
  // Part for part the training set is the plain line, so no novel change can hide in a good label.
  samples.forEach((s, i) => assert.equal(s.label, renderPart({ width: 320, height: 240, seed: 3, defectRate: 0.8 }, i).truth.defect ?? "ok"));
});

test("synth and the camera config refuse unknown or repeated novel kinds with coded errors", () => {
  const base = ["--out", "/nonexistent/never-written", "--parts", "1", "--seed", "1"];
  for (const [args, message] of [
    [["--novel", "dent,bent"], /unknown kind 'bent'/],
    [["--novel", "dent,dent"], /lists a kind twice/],
    [["--novel-rate", "0.5"], /--novel-rate needs --novel/],
    [["--novel", "dent", "--novel-rate", "2"], /--novel-rate must be between 0 and 1/],
  ] as const) {
    assert.throws(() => cmdSynth([...base, ...args]), (e) => errorCode(e) === "E_USAGE" && message.test((e as Error).message), args.join(" "));
  }
  assert.throws(() => cameraConfig({ type: "synthetic", novel_defects: ["bent"] }), /camera\.novel_defects\.0/);
  assert.throws(() => cameraConfig({ type: "synthetic", novel_defects: ["dent", "dent"] }), /lists a kind twice/);
  const c = cameraConfig({ type: "synthetic" });
  assert.ok(c.type === "synthetic" && c.novel_defects.length === 0, "none by default");
});

test("the run summary counts novel defective parts and those shipped as ok", async () => {
  const app = new App(
    lineConfig(`
line: { mode: triggered, travel_ms: 600, frame_tolerance_ms: 120 }
trigger: { type: simulated, rate_hz: 15 }
camera: { type: synthetic, width: 320, height: 240, fps: 40, seed: 5, defect_rate: 0.3, novel_defects: [dent, chipped_edge, foreign_object, discoloration, wrong_part], novel_rate: 0.4 }
engine: { type: simulated, latency_ms: 2, error_rate: 0 }
actuation: { window_ms: 100 }
http: { enabled: false }
`),
    quietLog(),
  );
  const { settled, summary } = await runParts(app, 30);
  const t = summary.truth!;
  const novel = settled.filter((p) => p.truth?.novel);
  assert.ok(novel.length > 0, "some novel parts on the line");
  assert.equal(t.novel_defective, novel.length);
  assert.equal(t.novel_escaped, novel.filter((p) => p.outcome === "accepted").length);
  assert.equal(t.defective, t.caught + t.escaped);
  // The simulated classifier knows only the trained classes: every novel part it judged, it shipped.
  for (const p of novel.filter((q) => q.judgement.verdict !== "unknown")) assert.equal(p.outcome, "accepted", `part ${p.id} (${p.truth!.defect})`);
  assert.match(formatSummary(summary), new RegExp(`novel defects ${t.novel_defective}, of them shipped as ok ${t.novel_escaped}`));
});
