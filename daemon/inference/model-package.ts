import { createHash } from "node:crypto";
import { realpathSync } from "node:fs";
import { dirname, join, resolve, sep } from "node:path";
import { LineCounter, parseDocument } from "yaml";
import { describeRefusal, readBounded, ReadRefused } from "../util/bounded-read.js";
import { EdgeError, errorMessage } from "../util/errors.js";
import { manifestSchema, type ModelInput, type Manifest } from "./manifest.js";
import { ANOMALY_CLASS } from "./engine.js";

export type EngineKind = "onnx" | "tfjs";

export interface Thresholds {
  default: number;
  perClass: Record<string, number>;
}

/** A package whose every file was read and checked; the runtimes only ever see these bytes. */
export interface ModelPackage {
  dir: string;
  manifest: Manifest;
  variant: string;
  engine: EngineKind;
  precision: string;
  /** The manifest's input with the variant's overrides applied. */
  input: ModelInput;
  /** Path of the variant's classifier or detector, relative to the package; absent in an anomaly-only package. */
  model?: string;
  /** Path of the variant's anomaly model, when the package has an anomaly head and the variant runs it. */
  anomalyModel?: string;
  /** Verified contents by path relative to the package. */
  files: ReadonlyMap<string, Buffer>;
  thresholds: Thresholds;
}

export interface PackageSelection {
  /** A variant name from the manifest; by default default_variant, else the first for the engine. */
  variant?: string;
  /** The engine the caller runs: a variant for another engine is refused. */
  engine?: EngineKind;
}

/**
 * Reads and checks a model package (docs/model-package.md): manifest schema,
 * labels, shapes, and the size and sha256 of every listed file. It returns
 * all of it or throws a coded EdgeError; nothing half-checked escapes:
 *   E_MODEL_MANIFEST  unreadable or invalid model.yaml, file not listed
 *   E_MODEL_FILE      a listed file is missing, unreadable, not a regular
 *                     file (a symbolic link, a device, a FIFO) or outside the package
 *   E_MODEL_TRUNCATED a file is shorter than listed
 *   E_MODEL_HASH      a file's size or sha256 differs from the manifest
 *   E_MODEL_LABELS    labels, ok_label, thresholds or golden names disagree
 *   E_MODEL_SHAPE     the input shape contradicts layout or colour
 *   E_MODEL_VARIANT   no such variant, or it is for another engine
 * (an anomaly model's outputs are checked when a runtime loads it: anomaly-head.ts).
 */
export function loadModelPackage(dir: string, sel: PackageSelection = {}): ModelPackage {
  const root = resolve(dir);
  const manifest = readManifest(root);
  const { name: variant, spec } = pickVariant(manifest, sel);
  const engine = spec.engine ?? manifest.engine;
  const input: ModelInput = { ...manifest.input, ...spec.input };
  checkLabels(manifest);
  checkHeads(manifest, root);
  checkInput(input, `variants.${variant}`);
  const listed = new Set(manifest.files.map((f) => f.path));
  const models = (["model", "anomaly_model"] as const).flatMap((k) => (spec[k] === undefined ? [] : [[`variants.${variant}.${k}`, spec[k]]]));
  for (const [what, path] of [...models, ...manifest.golden.map((g, i) => [`golden.${i}.image`, g.image])]) {
    if (!listed.has(path!)) throw new EdgeError("E_MODEL_MANIFEST", `${root}: ${what}: '${path}' is not listed in files`);
  }
  const files = new Map<string, Buffer>();
  for (const f of manifest.files) files.set(f.path, readChecked(root, f));
  const { default: def, ...perClass } = manifest.thresholds;
  return {
    dir: root,
    manifest,
    variant,
    engine,
    precision: spec.precision ?? manifest.precision,
    input,
    ...(spec.model !== undefined ? { model: spec.model } : {}),
    ...(spec.anomaly_model !== undefined ? { anomalyModel: spec.anomaly_model } : {}),
    files,
    thresholds: { default: def ?? 0.5, perClass },
  };
}

/** A manifest is a page of YAML; more is not a manifest. */
const MAX_MANIFEST_BYTES = 256 * 1024;

function readManifest(root: string): Manifest {
  const file = join(root, "model.yaml");
  let text: string;
  try {
    text = readBounded(file, { maxBytes: MAX_MANIFEST_BYTES, noFollow: true }).toString("utf8");
  } catch (err) {
    throw new EdgeError("E_MODEL_MANIFEST", `${file}: cannot read: ${err instanceof ReadRefused ? describeRefusal(err.refusal) : errorMessage(err)}`);
  }
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, uniqueKeys: true, prettyErrors: false });
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    throw new EdgeError("E_MODEL_MANIFEST", `${file}: YAML: ${e.message.split("\n")[0]} (line ${e.linePos?.[0]?.line ?? "?"})`);
  }
  let raw: unknown;
  try {
    raw = doc.toJS();
  } catch (err) {
    // yaml refuses an alias bomb (more aliases than maxAliasCount) here, not while parsing.
    throw new EdgeError("E_MODEL_MANIFEST", `${file}: YAML: ${errorMessage(err)}`);
  }
  const parsed = manifestSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => {
      const node = doc.getIn(i.path, true) as { range?: [number, number] } | undefined;
      const line = node?.range ? ` (line ${lc.linePos(node.range[0]).line})` : "";
      return `${i.path.join(".") || "(top level)"}: ${i.message}${line}`;
    });
    throw new EdgeError("E_MODEL_MANIFEST", `${file}: ${problems.length} problem(s)\n${problems.join("\n")}`);
  }
  return parsed.data;
}

function pickVariant(m: Manifest, sel: PackageSelection): { name: string; spec: Manifest["variants"][string] } {
  const engineOf = (name: string) => m.variants[name]!.engine ?? m.engine;
  const names = Object.keys(m.variants);
  let name = sel.variant;
  if (name === undefined) {
    const preferred = m.default_variant && (!sel.engine || engineOf(m.default_variant) === sel.engine) ? m.default_variant : undefined;
    name = preferred ?? names.find((n) => !sel.engine || engineOf(n) === sel.engine);
    if (name === undefined) throw new EdgeError("E_MODEL_VARIANT", `${m.name}: no variant for engine ${sel.engine} (variants: ${names.join(", ")})`);
  }
  const spec = m.variants[name];
  if (!spec) throw new EdgeError("E_MODEL_VARIANT", `${m.name}: no variant '${name}' (variants: ${names.join(", ")})`);
  if (sel.engine && engineOf(name) !== sel.engine) {
    throw new EdgeError("E_MODEL_VARIANT", `${m.name}: variant '${name}' is for engine ${engineOf(name)}, not ${sel.engine}`);
  }
  if (m.default_variant && !m.variants[m.default_variant]) {
    throw new EdgeError("E_MODEL_VARIANT", `${m.name}: default_variant '${m.default_variant}' is not one of the variants`);
  }
  return { name, spec };
}

function checkLabels(m: Manifest): void {
  const bad = (path: string, why: string) => new EdgeError("E_MODEL_LABELS", `${m.name}: ${path}: ${why}`);
  const seen = new Set<string>();
  for (const l of m.labels) {
    if (seen.has(l)) throw bad("labels", `'${l}' appears twice`);
    seen.add(l);
  }
  const known = `(labels: ${m.labels.join(", ")})`;
  if (!seen.has(m.ok_label)) throw bad("ok_label", `'${m.ok_label}' is not one of the labels ${known}`);
  for (const cls of Object.keys(m.thresholds)) {
    if (cls !== "default" && !seen.has(cls)) throw bad(`thresholds.${cls}`, `not one of the labels ${known}`);
  }
  // The anomaly head's finding is of class `anomaly`: a label of that name would be indistinguishable from it.
  if (m.anomaly && seen.has(ANOMALY_CLASS)) throw bad("labels", `'${ANOMALY_CLASS}' is the anomaly head's finding, not a label of a package with one`);
  m.golden.forEach((g, i) => {
    if (!seen.has(g.expect) && !(m.anomaly && g.expect === ANOMALY_CLASS)) throw bad(`golden.${i}.expect`, `'${g.expect}' is not one of the labels ${known}`);
  });
  if (m.head?.type === "classify" && m.head.top_k > m.labels.length) throw bad("head.top_k", `${m.head.top_k} is more than the ${m.labels.length} labels`);
}

/**
 * Every variant's models have their head: a `model` needs `head`, an
 * `anomaly_model` needs `anomaly`, and a head no variant runs is a mistake
 * (a package meant to catch unknown defects must not load as one that cannot).
 */
function checkHeads(m: Manifest, root: string): void {
  const bad = (why: string) => new EdgeError("E_MODEL_MANIFEST", `${root}: ${why}`);
  const variants = Object.entries(m.variants);
  for (const [name, v] of variants) {
    if (v.model !== undefined && !m.head) throw bad(`variants.${name}.model: the manifest has no head to read it (head: classify or detect)`);
    if (v.anomaly_model !== undefined && !m.anomaly) throw bad(`variants.${name}.anomaly_model: the manifest has no anomaly section (its threshold)`);
  }
  if (m.head && !variants.some(([, v]) => v.model !== undefined)) throw bad("head: no variant has a model for it");
  if (m.anomaly && !variants.some(([, v]) => v.anomaly_model !== undefined)) throw bad("anomaly: no variant has an anomaly_model");
  if (m.anomaly && m.tiling) throw bad("anomaly: an anomaly head judges the whole input; it cannot be combined with tiling");
}

/** Channels the model's colour order implies. */
export function channelsOf(input: ModelInput): number {
  return input.color === "GRAY" ? 1 : 3;
}

/** [height, width] of the model input, from the manifest's shape and layout. */
export function inputSize(input: ModelInput): [number, number] {
  const [h, w] = input.layout === "NCHW" ? [input.shape[2], input.shape[3]] : [input.shape[1], input.shape[2]];
  return [h as number, w as number];
}

/**
 * Elements of one model input tensor, at most: 4096 x 4096 x 4. A larger
 * declared shape is a broken or hostile manifest, refused before any buffer is sized from it.
 */
export const MAX_INPUT_ELEMENTS = 4096 * 4096 * 4;

function checkInput(input: ModelInput, where: string): void {
  const bad = (why: string) => new EdgeError("E_MODEL_SHAPE", `${where}: input: ${why}`);
  const c = channelsOf(input);
  const [cDim, hDim, wDim] = input.layout === "NCHW" ? [1, 2, 3] : [3, 1, 2];
  if (input.shape[cDim] !== c) throw bad(`shape ${JSON.stringify(input.shape)} (${input.layout}) must have ${c} channel(s) for color ${input.color}`);
  for (const d of [hDim, wDim]) {
    if (typeof input.shape[d] !== "number") throw bad(`shape ${JSON.stringify(input.shape)}: height and width must be fixed numbers`);
  }
  const [h, w] = inputSize(input);
  if (h * w * c > MAX_INPUT_ELEMENTS) throw bad(`shape ${JSON.stringify(input.shape)} is ${h * w * c} elements per image, more than the ${MAX_INPUT_ELEMENTS} a model input may have`);
  for (const k of ["mean", "std"] as const) {
    const n = input.normalize[k].length;
    if (n !== 1 && n !== c) throw new EdgeError("E_MODEL_MANIFEST", `${where}: input.normalize.${k}: ${n} values for ${c} channel(s)`);
  }
}

/**
 * A listed file, read only if it is a regular file inside the package of at
 * most the manifest's size: type and size come from the open descriptor
 * before any byte is read, and the hash is taken chunk by chunk as it is read.
 * A symbolic link is refused (it could name /dev/zero, or a file outside the
 * package), and so is a path through a linked directory that leaves the package.
 */
function readChecked(root: string, f: Manifest["files"][number]): Buffer {
  const file = join(root, f.path);
  const fail = (why: string) => new EdgeError("E_MODEL_FILE", `${file}: ${why}`);
  let parent: string;
  try {
    parent = realpathSync(dirname(file));
  } catch (err) {
    throw fail(`cannot read: ${(err as NodeJS.ErrnoException).code ?? errorMessage(err)}`);
  }
  const realRoot = realpathSync(root);
  if (parent !== realRoot && !parent.startsWith(realRoot + sep)) throw fail(`is outside the package (its folder is ${parent})`);
  const hash = createHash("sha256");
  let data: Buffer;
  try {
    data = readBounded(file, { maxBytes: f.bytes, noFollow: true, onChunk: (c) => hash.update(c) });
  } catch (err) {
    if (!(err instanceof ReadRefused)) throw err;
    const r = err.refusal;
    if (r.kind === "too-large") throw new EdgeError("E_MODEL_HASH", `${f.path}: ${r.bytes} bytes, the manifest says ${f.bytes}`);
    throw fail(r.kind === "open" && r.errno === "ELOOP" ? "is a symbolic link: package files must be regular files inside the package" : `cannot read: ${describeRefusal(r)}`);
  }
  if (data.length < f.bytes) throw new EdgeError("E_MODEL_TRUNCATED", `${f.path}: truncated: ${data.length} of ${f.bytes} bytes`);
  const sha = hash.digest("hex");
  if (sha !== f.sha256) throw new EdgeError("E_MODEL_HASH", `${f.path}: sha256 ${sha} does not match the manifest (${f.sha256})`);
  return data;
}
