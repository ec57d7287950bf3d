import { loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import type { Benchmark, BenchOptions, BenchResult } from "./harness.js";
import { median } from "./harness.js";
import { cv, type Mat } from "../daemon/vision/opencv.js";
import { allocInput, preprocessInto, type InputTensor } from "../daemon/vision/preprocess.js";
import type { ModelInput } from "../daemon/inference/manifest.js";
import { loadModelPackage } from "../daemon/inference/model-package.js";
import { createBackend } from "../daemon/inference/onnx-backend.js";
import type { Backend } from "../daemon/inference/backend.js";
import { decide } from "../daemon/decide/decide.js";
import { renderPart } from "../daemon/capture/synthetic-line.js";
import { nowMs } from "../daemon/util/clock.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const DEMO = `${ROOT}models/defect-demo`;
const MOBILENET = `${ROOT}models/bench-mobilenet`;
const SIZES: Array<[number, number]> = [
  [640, 480],
  [1280, 720],
  [1920, 1080],
];
/** What USB cameras' MJPG streams come at (it varies by camera: 80-95 is usual). */
const JPEG_QUALITY = 85;
/** Distinct frames per size: parts of the synthetic line, a third with a defect. */
const FRAMES = 24;

/** How a frame reaches the engine as BGR: the camera's format and the decode asked of OpenCV. */
interface Path {
  name: string;
  /** The reduction libjpeg-turbo decodes at (1: full size). */
  scale: 1 | 2 | 4;
  decode(i: number): Mat;
}

interface Row extends Record<string, string | number> {
  size: string;
  path: string;
  model: string;
  decoded: string;
  decode_ms: number;
  preprocess_ms: number;
  total_ms: number;
  /** Of the full MJPG decode + preprocess to the same model's input, at the same size. */
  saves_pct: number;
  /** The preprocessed tensor against the full decode's, in the tensor's units (after normalising). */
  tensor_max_abs_diff: number | string;
  tensor_mean_abs_diff: number | string;
}

/**
 * What a frame costs before the model sees it, where users pay it: a USB
 * camera's MJPG (each JPEG decoded by OpenCV's imdecode as V4L2 hands the
 * buffer over), the same decoded by libjpeg-turbo at 1/2 or 1/4 scale
 * (IMREAD_REDUCED_COLOR_2/_4: the DCT scaled in the decoder, nearer the
 * model's size), and raw YUYV 4:2:2 converted to BGR; each followed by the
 * preprocess to the demo model's input and to MobileNet's 224x224, in the
 * thread that would run it. For the scaled decodes, how far the model's
 * input moves from the full decode's, and whether the demo model's verdict
 * or scores would.
 */
export const captureBenchmark: Benchmark = {
  name: "capture",
  description: "ms per frame: MJPG decode (full, libjpeg-turbo 1/2 and 1/4 scale), YUYV to BGR, each + preprocess to the demo and MobileNet inputs; 640x480, 1280x720, 1080p",
  async run(opts: BenchOptions): Promise<BenchResult> {
    const inputs: Array<[string, ModelInput]> = [
      ["demo", loadModelPackage(DEMO, { engine: "onnx", variant: "int8" }).input],
      ["mobilenet", loadModelPackage(MOBILENET, { engine: "onnx", variant: "int8" }).input],
    ];
    const demo = await createBackend({ dir: DEMO, variant: "int8", intraOpThreads: 1, interOpThreads: 1, spinning: false, graphOptimization: "all", providers: ["cpu"] });
    const rows: Row[] = [];
    const verdicts: unknown[] = [];
    const loadBefore = loadavg()[0]!;
    try {
      for (const [w, h] of SIZES) {
        const frames = Array.from({ length: FRAMES }, (_, i) => renderPart({ width: w, height: h, seed: 7, defectRate: 0.35 }, i).image);
        const jpegs = frames.map((f) => cv.imencode(".jpg", f, [cv.IMWRITE_JPEG_QUALITY, JPEG_QUALITY]));
        const yuyv = frames.map(toYuyv);
        const paths: Path[] = [
          { name: "MJPG full decode", scale: 1, decode: (i) => cv.imdecode(jpegs[i]!, cv.IMREAD_COLOR) },
          { name: "MJPG 1/2 scale decode", scale: 2, decode: (i) => cv.imdecode(jpegs[i]!, cv.IMREAD_REDUCED_COLOR_2) },
          { name: "MJPG 1/4 scale decode", scale: 4, decode: (i) => cv.imdecode(jpegs[i]!, cv.IMREAD_REDUCED_COLOR_4) },
          { name: "YUYV to BGR", scale: 1, decode: (i) => yuyv[i]!.cvtColor(cv.COLOR_YUV2BGR_YUYV) },
        ];
        // Longer at VGA, where a frame is cheap; a few hundred frames at 1080p.
        const n = Math.max(FRAMES, Math.round((w * h > 1e6 ? 120 : 480) * opts.scale));
        const reference = new Map<string, InputTensor[]>();
        for (const [model, input] of inputs) {
          let full = 0;
          for (const p of paths) {
            const t = time(p, n, input);
            const tensors = tensorsOf(p, input);
            if (p.scale === 1 && p.name.startsWith("MJPG")) {
              reference.set(model, tensors);
              full = t.decode + t.preprocess;
            }
            const diff = p.scale === 1 ? undefined : tensorDiff(reference.get(model)!, tensors);
            rows.push({
              size: `${w}x${h}`,
              path: p.name,
              model,
              decoded: `${Math.ceil(w / p.scale)}x${Math.ceil(h / p.scale)}${upscales(w, h, p.scale, input) ? " (< input: upscaled)" : ""}`,
              decode_ms: t.decode,
              preprocess_ms: t.preprocess,
              total_ms: t.decode + t.preprocess,
              saves_pct: Math.round((1 - (t.decode + t.preprocess) / full) * 1000) / 10,
              tensor_max_abs_diff: diff ? diff.max : "-",
              tensor_mean_abs_diff: diff ? diff.mean : "-",
            });
          }
        }
        verdicts.push({ size: `${w}x${h}`, ...(await verdictChanges(demo, paths, FRAMES)) });
        for (const m of [...frames, ...yuyv]) m.release();
      }
    } finally {
      await demo.close?.();
    }
    return { rows, data: { load_1min: { before: loadBefore, after: loadavg()[0]! }, jpeg_quality: JPEG_QUALITY, frames_per_size: FRAMES, opencv_threads: cv.getNumThreads(), inputs: Object.fromEntries(inputs), rows, demo_model_scaled_decode: verdicts } };
  },
};

/** Median ms per frame of the decode and of the preprocess after it, over `n` frames. */
function time(p: Path, n: number, input: ModelInput): { decode: number; preprocess: number } {
  const out = allocInput(input, 1);
  const decode: number[] = [];
  const preprocess: number[] = [];
  for (let i = -8; i < n; i++) {
    const t0 = nowMs();
    const m = p.decode(((i % FRAMES) + FRAMES) % FRAMES);
    const t1 = nowMs();
    preprocessInto(m, { x: 0, y: 0, w: m.cols, h: m.rows }, input, out, 0);
    const t2 = nowMs();
    m.release();
    // The first frames warm the decoder's and the resize's tables up.
    if (i < 0) continue;
    decode.push(t1 - t0);
    preprocess.push(t2 - t1);
  }
  return { decode: round3(median(decode)), preprocess: round3(median(preprocess)) };
}

function tensorsOf(p: Path, input: ModelInput): InputTensor[] {
  return Array.from({ length: FRAMES }, (_, i) => {
    const m = p.decode(i);
    const out = allocInput(input, 1);
    preprocessInto(m, { x: 0, y: 0, w: m.cols, h: m.rows }, input, out, 0);
    m.release();
    return out;
  });
}

function tensorDiff(a: InputTensor[], b: InputTensor[]): { max: number; mean: number } {
  let max = 0;
  let sum = 0;
  let count = 0;
  a.forEach((ta, i) => {
    const tb = b[i]!;
    for (let k = 0; k < ta.length; k++) {
      const d = Math.abs(ta[k]! - tb[k]!);
      if (d > max) max = d;
      sum += d;
    }
    count += ta.length;
  });
  return { max: round3(max), mean: Math.round((sum / count) * 1e4) / 1e4 };
}

/** A scaled decode smaller than the model's input in either dimension: the resize then invents pixels. */
function upscales(w: number, h: number, scale: number, input: ModelInput): boolean {
  const [H, W] = input.layout === "NHWC" ? [input.shape[1], input.shape[2]] : [input.shape[2], input.shape[3]];
  return Math.ceil(w / scale) < Number(W) || Math.ceil(h / scale) < Number(H);
}

/**
 * The demo model (its classifier and anomaly head, as the engine runs them)
 * on each frame decoded in full and scaled: verdicts that differ, and how
 * far the scores move.
 */
async function verdictChanges(demo: Backend, paths: Path[], n: number) {
  const pkg = demo.info.package!;
  const settings = { okLabel: pkg.okLabel, threshold: pkg.thresholds.default, thresholds: pkg.thresholds.perClass };
  const judge = async (m: Mat) => {
    const r = await demo.infer({ seq: 0, width: m.cols, height: m.rows, data: new Uint8Array(m.getData()) });
    m.release();
    const o = r.output;
    return { verdict: decide(o, demo.info.labels, settings).verdict, scores: o.kind === "classify" ? o.scores : [], anomaly: o.anomaly?.score ?? 0 };
  };
  const out: Record<string, { verdicts_changed: number; of: number; max_class_score_diff: number; max_anomaly_score_diff: number }> = {};
  const full = [];
  for (let i = 0; i < n; i++) full.push(await judge(paths[0]!.decode(i)));
  for (const p of paths.filter((q) => q.scale !== 1)) {
    let changed = 0;
    let cls = 0;
    let anomaly = 0;
    for (let i = 0; i < n; i++) {
      const j = await judge(p.decode(i));
      const f = full[i]!;
      if (j.verdict !== f.verdict) changed++;
      j.scores.forEach((s, k) => (cls = Math.max(cls, Math.abs(s - f.scores[k]!))));
      anomaly = Math.max(anomaly, Math.abs(j.anomaly - f.anomaly));
    }
    out[p.name] = { verdicts_changed: changed, of: n, max_class_score_diff: round3(cls), max_anomaly_score_diff: round3(anomaly) };
  }
  return { anomaly_threshold: pkg.anomaly?.threshold ?? null, ...out };
}

/**
 * A BGR frame as a camera's YUYV 4:2:2 buffer (Y0 U Y1 V): OpenCV 4.6 has no
 * BGR-to-YUYV conversion, so YUV 4:4:4 from cvtColor, chroma averaged over
 * each pair of pixels.
 */
function toYuyv(bgr: Mat): Mat {
  const yuv = bgr.cvtColor(cv.COLOR_BGR2YUV);
  const src = yuv.getData();
  yuv.release();
  const out = Buffer.alloc(bgr.rows * bgr.cols * 2);
  for (let p = 0; p < bgr.rows * bgr.cols; p += 2) {
    const a = p * 3;
    out[p * 2] = src[a]!;
    out[p * 2 + 1] = (src[a + 1]! + src[a + 4]!) >> 1;
    out[p * 2 + 2] = src[a + 3]!;
    out[p * 2 + 3] = (src[a + 2]! + src[a + 5]!) >> 1;
  }
  return new cv.Mat(out, bgr.rows, bgr.cols, cv.CV_8UC2);
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
