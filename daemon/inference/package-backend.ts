import { cv, type Mat } from "../vision/opencv.js";
import { decodeImage } from "../vision/read-image.js";
import { allocInput, frameView, preprocessInto, type InputTensor, type InputTransform, type Rect } from "../vision/preprocess.js";
import { tileRects } from "../vision/tiling.js";
import { decide } from "../decide/decide.js";
import { EdgeError, errorCode, errorMessage, stationCode } from "../util/errors.js";
import { nowMs } from "../util/clock.js";
import type { Finding, Judgement } from "../pipeline/part.js";
import type { Backend, BackendFrame, BackendResult } from "./backend.js";
import type { EngineOutput } from "./engine.js";
import type { ModelPackage } from "./model-package.js";
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
 * tiles, preprocessing, batched runs, the head, tile merge. It is returned
 * only once the model's input shape matched the manifest, a warm-up run's
 * outputs fitted the labels and every golden image gave its expected class.
 */
export async function createPackageBackend(pkg: ModelPackage, runtime: ModelRuntime, notes: string[]): Promise<Backend> {
  // Closures below take what they need, not the package: its files (every
  // variant's model, read to verify them) are not kept once the model is loaded.
  const { manifest: m, input } = pkg;
  const tiles = m.tiling ? m.tiling.cols * m.tiling.rows : 1;
  const batch = batchSize(pkg, runtime.inputShape, tiles);
  const [H, W] = inputSize(pkg.input);
  const dims = pkg.input.shape.map((d, i) => (i === 0 ? batch : (d as number)));
  const buffer = allocInput(pkg.input, batch);
  const grey = new cv.Mat(H, W, cv.CV_8UC3, [128, 128, 128]);

  const runChunks = async (fill: (slot: number, tile: number) => void, count: number): Promise<RawTensor[][]> => {
    const results: RawTensor[][] = [];
    for (let start = 0; start < count; start += batch) {
      // A short last chunk reuses the buffer; its unused slots are ignored.
      for (let s = 0; s < batch && start + s < count; s++) fill(s, start + s);
      results.push(await runtime.run(buffer, dims));
    }
    return results;
  };

  const timing = { preprocessMs: 0 };
  const judge = async (mat: Mat): Promise<EngineOutput> => {
    const region: Rect = m.roi ? { x: m.roi[0], y: m.roi[1], w: m.roi[2], h: m.roi[3] } : { x: 0, y: 0, w: mat.cols, h: mat.rows };
    const rects = m.tiling ? tileRects(region, m.tiling) : [region];
    const transforms: InputTransform[] = [];
    const chunks = await runChunks((slot, tile) => {
      const t0 = nowMs();
      transforms[tile] = preprocessInto(mat, rects[tile]!, input, buffer, slot);
      timing.preprocessMs += nowMs() - t0;
    }, rects.length);
    const perTile = (tile: number) => ({ outputs: chunks[Math.floor(tile / batch)]!, index: tile % batch });
    if (m.head.type === "classify") {
      const head = m.head;
      const scores = mergeTileScores(rects.map((_, i) => classifyScores(perTile(i).outputs[0]!, perTile(i).index, head)));
      return { kind: "classify", scores };
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
    return { kind: "detect", detections };
  };

  try {
    await warmUp(pkg, runtime, (n) => runChunks((slot) => preprocessInto(grey, { x: 0, y: 0, w: W, h: H }, input, buffer, slot), n), batch);
  } finally {
    grey.release();
  }
  await checkGolden(pkg, judge);

  // One frame at a time: every frame is preprocessed into the one input
  // buffer, and a runtime reads it only later (onnxruntime-node runs on the
  // next turn of the event loop), so a second frame's preprocessing would
  // overwrite the first's input before the first is run.
  let turn: Promise<unknown> = Promise.resolve();
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

  let closed = false;
  return {
    info: {
      name: m.name,
      version: m.version,
      labels: m.labels,
      backend: runtime.name,
      package: {
        dir: pkg.dir,
        variant: pkg.variant,
        precision: pkg.precision,
        head: m.head.type,
        okLabel: m.ok_label,
        thresholds: pkg.thresholds,
        notes,
      },
    },
    infer(frame: BackendFrame): Promise<BackendResult> {
      const result = turn.then(() => inferOne(frame));
      turn = result.catch(() => undefined);
      return result;
    },
    close: () => {
      // A runtime released twice throws (onnxruntime, TF.js): closing is once.
      if (closed) return;
      closed = true;
      return runtime.close();
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
  const where = `${pkg.manifest.name} (${pkg.variant}, ${pkg.model})`;
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
async function warmUp(pkg: ModelPackage, runtime: ModelRuntime, runGrey: (n: number) => Promise<RawTensor[][]>, batch: number): Promise<void> {
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
  if (m.head.type === "classify") {
    const c = classifyWidth(outputs[0]!);
    if (c !== m.labels.length) throw new EdgeError("E_MODEL_LABELS", `the model has ${c} outputs per image, the manifest ${m.labels.length} labels (${m.labels.join(", ")})`);
  } else {
    checkDetectShape(pickOutputs(outputs, runtime, m.head.outputs), m.head, m.labels.length);
  }
}

async function checkGolden(pkg: ModelPackage, judge: (mat: Mat) => Promise<EngineOutput>): Promise<void> {
  const m = pkg.manifest;
  const settings = { okLabel: m.ok_label, threshold: pkg.thresholds.default, thresholds: pkg.thresholds.perClass };
  for (const g of m.golden) {
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
