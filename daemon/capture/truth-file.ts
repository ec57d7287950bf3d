import { z } from "zod";
import { describeRefusal, readBounded, ReadRefused } from "../util/bounded-read.js";
import { EdgeError, errorMessage } from "../util/errors.js";
import type { GroundTruth } from "./camera.js";

/**
 * truth.json, as `edge-inspect synth` writes it: one entry per part, in frame
 * order. `class` is the defect class or "ok"; `bbox` is [x, y, w, h] in frame
 * pixels, null for a good part; `novel: true` marks a defect kind no model
 * was trained on (see capture/novel-defects.ts).
 */
const truthPart = z
  .object({
    frame: z.number().int().min(0),
    file: z.string().nullable(),
    part_type: z.string(),
    class: z.string(),
    bbox: z.tuple([z.number(), z.number(), z.number(), z.number()]).nullable(),
    novel: z.literal(true).optional(),
  })
  .strict();

export const truthFileSchema = z
  .object({
    generator: z.literal("edge-inspect synth"),
    seed: z.number().int(),
    defect_rate: z.number(),
    /** Present when the line drew novel defects: which kinds, at what share of parts. */
    novel_defects: z.array(z.string()).optional(),
    novel_rate: z.number().optional(),
    width: z.number().int(),
    height: z.number().int(),
    fps: z.number(),
    video: z.string().nullable(),
    parts: z.array(truthPart),
  })
  .strict();

export type TruthFile = z.infer<typeof truthFileSchema>;
export type TruthPart = TruthFile["parts"][number];

export function toTruthPart(frame: number, file: string | null, t: GroundTruth): TruthPart {
  const p: TruthPart = { frame, file, part_type: t.partType, class: t.defect ?? "ok", bbox: t.box ?? null };
  if (t.novel) p.novel = true;
  return p;
}

export function fromTruthPart(p: TruthPart): GroundTruth {
  const t: GroundTruth = { partType: p.part_type, defect: p.class === "ok" ? null : p.class };
  if (p.bbox) t.box = p.bbox;
  if (p.novel) t.novel = true;
  return t;
}

/** About a million parts' worth of entries. */
const MAX_TRUTH_BYTES = 128 * 1024 * 1024;

export function readTruthFile(path: string): TruthFile {
  let text: string;
  try {
    text = readBounded(path, { maxBytes: MAX_TRUTH_BYTES }).toString("utf8");
  } catch (err) {
    const why = err instanceof ReadRefused ? describeRefusal(err.refusal) : errorMessage(err);
    throw new EdgeError("E_TRUTH_READ", `cannot read ground truth ${path}: ${why}`, { cause: err });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new EdgeError("E_TRUTH_MALFORMED", `ground truth ${path} is not JSON: ${(err as Error).message}`);
  }
  const r = truthFileSchema.safeParse(raw);
  if (!r.success) {
    const i = r.error.issues[0]!;
    throw new EdgeError("E_TRUTH_MALFORMED", `ground truth ${path}: ${i.path.join(".") || "(top level)"}: ${i.message}`);
  }
  return r.data;
}
