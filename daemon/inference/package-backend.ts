import { cv, type Mat } from "../vision/opencv.js";
import { decodeImage } from "../vision/read-image.js";
import { allocInput, frameView, preprocessInto, type InputTensor, type InputTransform, type Rect } from "../vision/preprocess.js";
import { tileRects } from "../vision/tiling.js";
import { decide } from "../decide/decide.js";
import { EdgeError, errorCode, errorMessage, stationCode } from "../util/errors.js";
import { nowMs } from "../util/clock.js";
import type { Finding, Judgement } from "../pipeline/part.js";
import type { Backend, BackendFrame, BackendResult } from "./backend.js";
import { ANOMALY_CLASS, type AnomalyOutput, type EngineOutput } from "./engine.js";
import type { ModelPackage } from "./model-package.js";
import { anomalyOf, anomalyTensors } from "./anomaly-head.js";
import { classifyScores, classifyWidth, mergeTileScores } from "./classify-head.js";
import { checkDetectShape, decodeDetections, mergeTiles, toFrame } from "./detect-head.js";
import { channelsOf, inputSize, MAX_INPUT_ELEMENTS } from "./model-package.js";
import type { RawTensor } from "./tensor.js";

/** One loaded model as a runtime (onnxruntime, TF.js) offers it to the package backend. */
export interface ModelRuntime {
  /** What computes, e.g. "onnxruntime/cpu". */
  readonly name: string;
  /** Input shape as the model declares it; symbolic dimensions are strings. */
  readonly inputShape: ReadonlyArray<number | string>;
  readonly outputNames: readonly string[];
  /** Runs a batch laid out as the manifest's input says; outputs in the model's order. */
  run(input: InputTensor, dims: number[]): Promise<RawTensor[]>;
  close(): void | Promise<void>;
}

/**
 * A model package on a runtime, as a Backend for the engine worker: ROI,
 * tiles, preprocessing, batched runs, the head, tile merge, and the anomaly
 * model beside it on the same input when the variant has one (`anomaly`;
 * `runtime` is absent in an anomaly-only package). It is returned only once
 * every model's input shape matched the manifest, a warm-up run's outputs
 * fitted the heads and every golden image gave its expected class.
 */
export async function createPackageBackend(pkg: ModelPackage, runtime: ModelRuntime | undefined, notes: string[], anomaly?: ModelRuntime): Promise<Backend> {
  // Closures below take what they need, not the package: its files (every
  // variant's model, read to verify them) are not kept once the model is loaded.
  const { manifest: m, input } = pkg;
  const runtimes = [runtime, anomaly].filter((r): r is ModelRuntime => r !== undefined);
  if (runtimes.length === 0) throw new EdgeError("E_MODEL_VARIANT", `${m.name}: variant '${pkg.variant}' has no model to run`);
  if (m.anomaly && !anomaly) notes.push(`variant ${pkg.variant} has no anomaly model: only the ${m.head?.type ?? "?"} head judges`);
  const tiles = m.tiling ? m.tiling.cols * m.tiling.rows : 1;
  const batch = Math.min(...runtimes.map((r) => batchSize(pkg, r.inputShape, tiles)));
  const [H, W] = inputSize(pkg.input);
  const dims = pkg.input.shape.map((d, i) => (i === 0 ? batch : (d as number)));
  const buffer = allocInput(pkg.input, batch);
  const grey = new cv.Mat(H, W, cv.CV_8UC3, [128, 128, 128]);

  const runChunks = async (fill: (slot: number, tile: number) => void, count: number, on: ModelRuntime): Promise<RawTensor[][]> => {
    const results: RawTensor[][] = [];
    for (let start = 0; start < count; start += batch) {
      // A short last chunk reuses the buffer; its unused slots are ignored.
      for (let s = 0; s < batch && start + s < count; s++) fill(s, start + s);
      results.push(await on.run(buffer, dims));
    }
    return results;
  };
  const anomalySpec = m.anomaly;
  // The anomaly model reads the buffer the head's model just read: one input, no tiling (model-package.ts).
  const judgeAnomaly = async (transform: InputTransform): Promise<AnomalyOutput | undefined> => {
    if (!anomaly || !anomalySpec) return undefined;
    const outputs = await anomaly.run(buffer, dims);
    return anomalyOf(anomalyTensors(outputs, anomaly.outputNames, anomalySpec, [H, W]), 0, anomalySpec, transform);
  };

  const timing = { preprocessMs: 0 };
  const judge = async (mat: Mat): Promise<EngineOutput> => {
    const region: Rect = m.roi ? { x: m.roi[0], y: m.roi[1], w: m.roi[2], h: m.roi[3] } : { x: 0, y: 0, w: mat.cols, h: mat.rows };
    const rects = m.tiling ? tileRects(region, m.tiling) : [region];
    const transforms: InputTransform[] = [];
    const fill = (slot: number, tile: number) => {
      const t0 = nowMs();
      transforms[tile] = preprocessInto(mat, rects[tile]!, input, buffer, slot);
      timing.preprocessMs += nowMs() - t0;
    };
    if (!runtime || !m.head) {
      fill(0, 0);
      return { kind: "anomaly", anomaly: (await judgeAnomaly(transforms[0]!))! };
    }
    const chunks = await runChunks(fill, rects.length, runtime);
    const found = await judgeAnomaly(transforms[0]!);
    const withAnomaly = found ? { anomaly: found } : {};
    const perTile = (tile: number) => ({ outputs: chunks[Math.floor(tile / batch)]!, index: tile % batch });
    if (m.head.type === "classify") {
      const head = m.head;
      const scores = mergeTileScores(rects.map((_, i) => classifyScores(perTile(i).outputs[0]!, perTile(i).index, head)));
      return { kind: "classify", scores, ...withAnomaly };
    }
    const head = m.head;
    const dets = mergeTiles(
      rects.map((r, i) => {
        const { outputs, index } = perTile(i);
        return toFrame(decodeDetections(pickOutputs(outputs, runtime, head.outputs), index, head, m.labels.length, [H, W]), transforms[i]!, r);
      }),
      head,
    );
    const detections: Finding[] = dets.map((d) => ({
      class: m.labels[d.cls]!,
      score: d.score,
      box: [d.box[0], d.box[1], d.box[2] - d.box[0], d.box[3] - d.box[1]],
    }));
    return { kind: "detect", detections, ...withAnomaly };
  };

  try {
    for (const r of runtimes) await warmUp(pkg, r, r === anomaly, (n) => runChunks((slot) => preprocessInto(grey, { x: 0, y: 0, w: W, h: H }, input, buffer, slot), n, r), batch);
  } finally {
    grey.release();
  }
  await checkGolden(pkg, judge, anomaly !== undefined);

  let closed = false;
  const inferOne = async (frame: BackendFrame): Promise<BackendResult> => {
    const t0 = nowMs();
    timing.preprocessMs = 0;
    // Preprocessing only reads the frame, which stays as it is until this answers (Engine.infer).
    const mat = frameView(frame);
    let output: EngineOutput;
    try {
      output = await judge(mat);
    } finally {
      mat.release();
    }
    return { output, preprocessMs: timing.preprocessMs, inferMs: nowMs() - t0 - timing.preprocessMs };
  };
  let turn: Promise<unknown> = Promise.resolve();
  return {
    info: {
      name: m.name,
      version: m.version,
      labels: m.labels,
      backend: runtimes[0]!.name,
      package: {
        dir: pkg.dir,
        variant: pkg.variant,
        precision: pkg.precision,
        head: runtime && m.head ? m.head.type : "anomaly",
        ...(anomaly && m.anomaly ? { anomaly: { threshold: m.anomaly.threshold } } : {}),
        okLabel: m.ok_label,
        thresholds: pkg.thresholds,
        notes,
      },
    },
    infer(frame: BackendFrame): Promise<BackendResult> {
      // One frame at a time: the input buffer and the timing are the
      // backend's own, and onnxruntime reads the buffer while its run is
      // awaited, so a second frame (another line or view on this engine)
      // preprocessed meanwhile would be judged in the first one's place.
      const mine = turn.then(() => inferOne(frame));
      turn = mine.catch(() => undefined);
      return mine;
    },
    close: () => {
      // A runtime released twice throws (onnxruntime, TF.js): closing is once.
      if (closed) return;
      closed = true;
      return Promise.all(runtimes.map((r) => r.close())).then(() => undefined);
    },
  };
}

/** The outputs a detect head reads, by name when the manifest names them. */
function pickOutputs(outputs: RawTensor[], runtime: ModelRuntime, names: string[] | undefined): RawTensor[] {
  if (!names) return outputs;
  return names.map((n) => {
    const i = runtime.outputNames.indexOf(n);
    if (i < 0) throw new EdgeError("E_MODEL_SHAPE", `head.outputs: the model has no output '${n}' (outputs: ${runtime.outputNames.join(", ")})`);
    return outputs[i]!;
  });
}

function batchSize(pkg: ModelPackage, modelShape: ReadonlyArray<number | string>, tiles: number): number {
  const want = pkg.input.shape;
  const where = `${pkg.manifest.name} (${pkg.variant}, ${[pkg.model, pkg.anomalyModel].filter(Boolean).join(" + ")})`;
  if (modelShape.length !== want.length) {
    throw new EdgeError("E_MODEL_SHAPE", `${where}: the model's input is ${JSON.stringify(modelShape)}, the manifest says ${JSON.stringify(want)}`);
  }
  for (let i = 1; i < want.length; i++) {
    const got = modelShape[i];
    if (typeof got === "number" && got > 0 && got !== want[i]) {
      throw new EdgeError("E_MODEL_SHAPE", `${where}: the model's input is ${JSON.stringify(modelShape)}, the manifest says ${JSON.stringify(want)}`);
    }
  }
  const b = modelShape[0];
  const fixed = typeof b === "number" && b > 0 ? b : undefined;
  const batch = fixed ?? (pkg.manifest.tiling?.batch ? tiles : 1);
  const [h, w] = inputSize(pkg.input);
  if (batch * h * w * channelsOf(pkg.input) > MAX_INPUT_ELEMENTS) {
    throw new EdgeError("E_MODEL_SHAPE", `${where}: a batch of ${batch} inputs ${JSON.stringify(want)} is more than the ${MAX_INPUT_ELEMENTS} elements a model input may have`);
  }
  return batch;
}

/**
 * Runs the model on a mid-grey image, preprocessed as a frame would be (a
 * zero tensor would hide an input scale that overflows), and checks that its
 * outputs fit the head and are all finite.
 */
async function warmUp(pkg: ModelPackage, runtime: ModelRuntime, isAnomaly: boolean, runGrey: (n: number) => Promise<RawTensor[][]>, batch: number): Promise<void> {
  let outputs: RawTensor[];
  try {
    // Twice: the first run allocates and plans; the second is the one a part would see.
    await runGrey(batch);
    outputs = (await runGrey(batch))[0]!;
  } catch (err) {
    const code = stationCode(err, "E_MODEL_RUN");
    throw new EdgeError(code.startsWith("E_MODEL") ? code : "E_MODEL_RUN", `warm-up run failed: ${errorMessage(err)}`, { cause: err });
  }
  // A model that computes NaN or Infinity (broken weights, an overflowing
  // export) would leave every part without a verdict: refused here, not part by part.
  outputs.forEach((t, i) => {
    const at = t.data.findIndex((v) => !Number.isFinite(v));
    if (at >= 0) {
      throw new EdgeError("E_MODEL_OUTPUT", `warm-up run: output ${runtime.outputNames[i] ?? i} ${JSON.stringify(t.dims)} holds ${t.data[at]} at index ${at}: the model's outputs must be finite`);
    }
  });
  const m = pkg.manifest;
  if (isAnomaly) {
    anomalyTensors(outputs, runtime.outputNames, m.anomaly!, inputSize(pkg.input));
    return;
  }
  if (!m.head) return;
  if (m.head.type === "classify") {
    const c = classifyWidth(outputs[0]!);
    if (c !== m.labels.length) throw new EdgeError("E_MODEL_LABELS", `the model has ${c} outputs per image, the manifest ${m.labels.length} labels (${m.labels.join(", ")})`);
  } else {
    checkDetectShape(pickOutputs(outputs, runtime, m.head.outputs), m.head, m.labels.length);
  }
}

/** A golden part only the anomaly head rejects is checked on the variants that run it (not on a TF.js one). */
async function checkGolden(pkg: ModelPackage, judge: (mat: Mat) => Promise<EngineOutput>, runsAnomaly: boolean): Promise<void> {
  const m = pkg.manifest;
  const settings = { okLabel: m.ok_label, threshold: pkg.thresholds.default, thresholds: pkg.thresholds.perClass };
  for (const g of m.golden) {
    if (g.expect === ANOMALY_CLASS && !runsAnomaly) continue;
    let bgr: Mat;
    try {
      bgr = decodeImage(pkg.files.get(g.image)!, `golden image ${g.image}`);
    } catch (err) {
      throw new EdgeError("E_MODEL_GOLDEN", `${errorMessage(err)} (${errorCode(err)})`, { cause: err });
    }
    let j: Judgement;
    try {
      j = decide(await judge(bgr), m.labels, settings);
    } catch (err) {
      throw new EdgeError("E_MODEL_GOLDEN", `golden image ${g.image}: no verdict: ${errorMessage(err)}`, { cause: err });
    } finally {
      bgr.release();
    }
    const got = j.verdict === "reject" ? j.findings[0]!.class : m.ok_label;
    if (got !== g.expect) {
      const why = j.findings.map((f) => `${f.class} ${f.score.toFixed(3)}`).join(", ");
      throw new EdgeError("E_MODEL_GOLDEN", `golden image ${g.image}: expected ${g.expect}, the model says ${got} (${why})`);
    }
  }
}
