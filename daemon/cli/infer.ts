import { readImageFile } from "../vision/read-image.js";
import { decide } from "../decide/decide.js";
import { decideSettings } from "../decide/settings.js";
import { loadModelPackage } from "../inference/model-package.js";
import type { Backend, CreateBackend } from "../inference/backend.js";
import type { OnnxBackendOptions } from "../inference/onnx-backend.js";
import type { TfjsBackendOptions } from "../inference/tfjs-backend.js";
import type { Finding } from "../pipeline/part.js";
import { parseCommand, usageError } from "./args.js";
import { errorCode, errorMessage } from "../util/errors.js";

export const INFER_USAGE = `Usage: edge-inspect infer --model DIR [--variant NAME] [--json] IMAGE...

Runs a model package on image files and prints each image's verdict, scores
and boxes, with the package's own labels and thresholds, so a model can be
tried before it is deployed. The package is checked as at start-up (hashes,
shapes, warm-up, golden images). Images are PNG, JPEG, BMP, TIFF, WebP or
PBM/PGM/PPM/PAM of at most 64 megapixels, checked from the header before
decoding; each bad one is an error line (E_IMAGE_FORMAT, E_IMAGE_SIZE,
E_IMAGE) and exit 1, the others are still judged.

Options:
  -m, --model DIR      model package directory (with model.yaml)
      --variant NAME   a variant from model.yaml (default: its default_variant)
      --json           one JSON object per image instead of text
  -h, --help           this help
`;

interface ImageResult {
  image: string;
  verdict?: "pass" | "reject" | "unknown";
  findings?: Finding[];
  /** The anomaly head's score and threshold, when the package has one. */
  anomaly?: { score: number; threshold: number };
  scores?: Record<string, number>;
  detections?: Finding[];
  ms?: number;
  error?: { code: string; message: string };
}

export async function cmdInfer(args: string[], out: NodeJS.WritableStream = process.stdout): Promise<number> {
  const { values, positionals } = parseCommand(
    args,
    {
      model: { type: "string", short: "m" },
      variant: { type: "string" },
      json: { type: "boolean" },
    },
    true,
  );
  if (values.help) {
    out.write(INFER_USAGE);
    return 0;
  }
  if (!values.model) throw usageError("infer needs --model DIR");
  if (positionals.length === 0) throw usageError("infer needs at least one IMAGE");
  const backend = await openBackend(values.model, values.variant);
  let failed = 0;
  try {
    const info = backend.info;
    const settings = decideSettings({ thresholds: {} }, info);
    if (!values.json) out.write(`model ${info.name} ${info.version} (${info.package?.variant}, ${info.package?.precision}) on ${info.backend}\n`);
    for (const [i, image] of positionals.entries()) {
      const r: ImageResult = { image };
      try {
        const bgr = readImageFile(image);
        const res = await backend.infer({ seq: i, width: bgr.cols, height: bgr.rows, data: bgr.getData() });
        const j = decide(res.output, info.labels, settings);
        Object.assign(r, { verdict: j.verdict, findings: j.findings, ms: res.preprocessMs + res.inferMs });
        if (res.output.kind === "classify") {
          const scores = res.output.scores;
          r.scores = Object.fromEntries(info.labels.map((l, k) => [l, scores[k]!]));
        } else if (res.output.kind === "detect") {
          r.detections = res.output.detections;
        }
        if (res.output.anomaly) r.anomaly = { score: res.output.anomaly.score, threshold: res.output.anomaly.threshold };
      } catch (err) {
        failed++;
        r.error = { code: errorCode(err), message: errorMessage(err) };
      }
      out.write(values.json ? JSON.stringify(r) + "\n" : text(r));
    }
  } finally {
    await backend.close?.();
  }
  return failed > 0 ? 1 : 0;
}

async function openBackend(dir: string, variant: string | undefined): Promise<Backend> {
  const pkg = loadModelPackage(dir, variant ? { variant } : {});
  const v = { variant: pkg.variant };
  if (pkg.engine === "onnx") {
    const mod = (await import("../inference/onnx-backend.js")) as { createBackend: CreateBackend };
    const o: OnnxBackendOptions = { dir, ...v, intraOpThreads: 0, interOpThreads: 1, spinning: false, graphOptimization: "all", providers: ["tensorrt", "cuda", "cpu"] };
    return mod.createBackend(o);
  }
  const mod = (await import("../inference/tfjs-backend.js")) as { createBackend: CreateBackend };
  const o: TfjsBackendOptions = { dir, ...v, backends: ["tensorflow", "wasm", "cpu"] };
  return mod.createBackend(o);
}

function text(r: ImageResult): string {
  if (r.error) return `${r.image}: error ${r.error.code}: ${r.error.message}\n`;
  const f = (x: Finding) => `${x.class} ${x.score.toFixed(3)}${x.box ? ` at [${x.box.map((v) => Math.round(v)).join(", ")}]` : ""}`;
  const lines = [`${r.image}: ${r.verdict} (${r.ms!.toFixed(1)} ms)${r.findings!.length ? `: ${r.findings!.map(f).join(", ")}` : ""}`];
  if (r.scores) lines.push(`  scores: ${Object.entries(r.scores).map(([l, s]) => `${l} ${s.toFixed(3)}`).join(", ")}`);
  if (r.detections) lines.push(...r.detections.map((d) => `  box: ${f(d)}`));
  return lines.join("\n") + "\n";
}
