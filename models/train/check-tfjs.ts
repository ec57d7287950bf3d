#!/usr/bin/env node
/**
 * Checks the TF.js export against the trained network: loads DIR/model.json
 * with tf.loadLayersModel and compares its logits on the reference images.
 *   check-tfjs --model DIR --reference FILE [--tolerance 1e-3]
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import * as tf from "@tensorflow/tfjs";

interface Reference {
  shape: [number, number, number];
  pixels: string[];
  logits: number[][];
}

interface LayersJson {
  modelTopology: object;
  weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
}

async function main(argv: string[]): Promise<void> {
  const { values: a } = parseArgs({
    args: argv,
    options: { model: { type: "string" }, reference: { type: "string" }, tolerance: { type: "string", default: "1e-3" } },
    strict: true,
  });
  if (!a.model || !a.reference) throw new Error("--model DIR and --reference FILE are required");
  await tf.setBackend("cpu");
  const json = JSON.parse(readFileSync(join(a.model, "model.json"), "utf8")) as LayersJson;
  const weightSpecs = json.weightsManifest.flatMap((g) => g.weights);
  const weightData = Buffer.concat(json.weightsManifest.flatMap((g) => g.paths.map((p) => readFileSync(join(a.model!, p)))));
  const model = await tf.loadLayersModel(
    tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs, weightData: weightData.buffer.slice(weightData.byteOffset, weightData.byteOffset + weightData.byteLength) }),
  );
  const ref = JSON.parse(readFileSync(a.reference, "utf8")) as Reference;
  const [h, w, c] = ref.shape;
  let err = 0;
  for (const [i, b64] of ref.pixels.entries()) {
    const pixels = Float32Array.from(Buffer.from(b64, "base64"), (v) => v / 255);
    const logits = tf.tidy(() => (model.predict(tf.tensor4d(pixels, [1, h, w, c])) as tf.Tensor).dataSync());
    logits.forEach((v, j) => (err = Math.max(err, Math.abs(v - ref.logits[i]![j]!))));
  }
  const tol = Number(a.tolerance);
  if (!(err <= tol)) throw new Error(`${a.model}: TF.js logits differ from the trained network's by ${err} (tolerance ${tol})`);
  console.log(`${a.model}: TF.js layers model matches the trained network on ${ref.pixels.length} images (max |logit difference| ${err.toExponential(2)})`);
}

main(process.argv.slice(2)).catch((err: unknown) => {
  console.error(`check-tfjs: ${(err as Error).message}`);
  process.exit(1);
});
