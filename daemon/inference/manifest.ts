import { z } from "zod";

/**
 * The schema of a model package's `model.yaml` (docs/model-package.md).
 * Strict like the config: a misspelt key must not fall back to a default.
 */

/** A package file is read into memory whole; this bounds what a manifest may ask for. */
const MAX_FILE_BYTES = 1 << 30;

const label = z.string().min(1).max(64).regex(/^[A-Za-z0-9_-]+$/, "only letters, digits, '-' and '_'");
const relPath = z
  .string()
  .min(1)
  .refine((p) => !p.startsWith("/") && !p.split(/[\\/]/).includes(".."), "must be a path inside the package");
const dim = z.union([z.number().int().min(1), z.string().min(1)]);
const probability = z.number().min(0).max(1);

const fileEntry = z
  .object({
    path: relPath,
    sha256: z.string().regex(/^[0-9a-f]{64}$/, "must be 64 lowercase hex digits"),
    bytes: z.number().int().min(0).max(MAX_FILE_BYTES, `at most ${MAX_FILE_BYTES} bytes (1 GiB): no station model is larger`),
  })
  .strict();

const normalize = z
  .object({
    scale: z.number().positive().default(1),
    mean: z.array(z.number()).min(1).max(4).default([0]),
    std: z.array(z.number().positive()).min(1).max(4).default([1]),
  })
  .strict();

const inputOverride = z
  .object({
    shape: z.array(dim).length(4),
    layout: z.enum(["NCHW", "NHWC"]),
    dtype: z.enum(["float32", "uint8"]),
  })
  .partial()
  .strict();

const input = z
  .object({
    shape: z.array(dim).length(4),
    layout: z.enum(["NCHW", "NHWC"]),
    dtype: z.enum(["float32", "uint8"]).default("float32"),
    color: z.enum(["RGB", "BGR", "GRAY"]).default("RGB"),
    resize: z.enum(["stretch", "letterbox"]).default("stretch"),
    /** Border colour of a letterbox, per channel of the model's colour order. */
    pad_value: z.number().int().min(0).max(255).default(114),
    normalize: normalize.default({}),
  })
  .strict();

const variant = z
  .object({
    /** The classifier or detector the head reads. */
    model: relPath.optional(),
    /** The anomaly model beside it (or alone, in a package trained on good parts only). */
    anomaly_model: relPath.optional(),
    engine: z.enum(["onnx", "tfjs"]).optional(),
    precision: z.string().min(1).max(32).optional(),
    input: inputOverride.optional(),
  })
  .strict()
  .refine((v) => v.model !== undefined || v.anomaly_model !== undefined, "a variant needs a model, an anomaly_model, or both");

/**
 * The anomaly head: a model trained on good parts whose outputs are an image
 * score and a map at the input's resolution, both probabilities that the
 * part (a pixel of it) is unlike the good parts. The part is rejected when
 * the score reaches `threshold`, whatever the classifier says.
 */
const anomalyHead = z
  .object({
    threshold: probability,
    score_output: z.string().min(1).default("anomaly_score"),
    map_output: z.string().min(1).default("anomaly_map"),
    /** The false-reject rate the threshold was chosen for, on good validation parts (documentation). */
    target_false_reject_rate: probability.optional(),
  })
  .strict();

const classifyHead = z
  .object({
    type: z.literal("classify"),
    activation: z.enum(["softmax", "sigmoid", "none"]).default("softmax"),
    top_k: z.number().int().min(1).default(1),
  })
  .strict();

const detectHead = z
  .object({
    type: z.literal("detect"),
    layout: z.enum(["yolov5", "yolov8", "ssd"]),
    conf: probability.default(0.25),
    iou: probability.default(0.45),
    max_det: z.number().int().min(1).max(10_000).default(100),
    /** SSD only: box corner order, and whether boxes are fractions of the input size. */
    box_format: z.enum(["xyxy", "yxyx"]).default("xyxy"),
    normalized: z.boolean().default(true),
    /** SSD only: the scores carry a leading background class. */
    background: z.boolean().default(false),
    /** Output names, when the model's order is not [boxes, scores]/[predictions]. */
    outputs: z.array(z.string().min(1)).min(1).max(2).optional(),
  })
  .strict();

const tiling = z
  .object({
    cols: z.number().int().min(1).max(16),
    rows: z.number().int().min(1).max(16),
    /** Fraction of a tile shared with its neighbour. */
    overlap: z.number().min(0).max(0.9).default(0.2),
    /** Run all tiles in one batch when the model's batch dimension allows it. */
    batch: z.boolean().default(true),
  })
  .strict();

export const manifestSchema = z
  .object({
    name: label,
    version: z.string().min(1).max(64),
    engine: z.enum(["onnx", "tfjs"]),
    precision: z.string().min(1).max(32).default("float32"),
    files: z.array(fileEntry).min(1),
    variants: z.record(label, variant).refine((v) => Object.keys(v).length > 0, "at least one variant"),
    default_variant: label.optional(),
    input,
    roi: z.tuple([z.number().int().min(0), z.number().int().min(0), z.number().int().min(1), z.number().int().min(1)]).optional(),
    labels: z.array(label).min(1),
    ok_label: label,
    /** Absent in a package with an anomaly head only. */
    head: z.discriminatedUnion("type", [classifyHead, detectHead]).optional(),
    anomaly: anomalyHead.optional(),
    thresholds: z.record(label, probability).default({}),
    tiling: tiling.optional(),
    golden: z.array(z.object({ image: relPath, expect: label }).strict()).default([]),
  })
  .strict();

export type Manifest = z.infer<typeof manifestSchema>;
export type ModelInput = Manifest["input"];
export type HeadSpec = NonNullable<Manifest["head"]>;
export type AnomalyHeadSpec = z.infer<typeof anomalyHead>;
export type ClassifyHeadSpec = z.infer<typeof classifyHead>;
export type DetectHeadSpec = z.infer<typeof detectHead>;
export type TilingSpec = z.infer<typeof tiling>;
