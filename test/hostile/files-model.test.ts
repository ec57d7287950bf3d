import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { appendFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { App } from "../../daemon/app.js";
import { loadModelPackage } from "../../daemon/inference/model-package.js";
import { createBackend as createOnnx } from "../../daemon/inference/onnx-backend.js";
import { createBackend as createTfjs } from "../../daemon/inference/tfjs-backend.js";
import { lineConfig } from "../fakes/line.js";
import { quietLog } from "../fakes/quiet-log.js";
import { CLASSIFIER, editedPackage, type Manifest } from "../inference/fixtures.js";
import { aliasBomb } from "./hostile-yaml.js";

type Edit = (dir: string, m: Manifest) => void;
type Case = [name: string, edit: Edit, code: string, message: RegExp, rehash?: boolean];

const input = (m: Manifest) => m.input as Record<string, unknown>;
const file = (m: Manifest, path: string) => m.files.find((f) => f.path === path)!;
const outside = mkdtempSync(join(tmpdir(), "outside-"));
cpSync(join(CLASSIFIER, "model.onnx"), join(outside, "model.onnx"));
cpSync(join(CLASSIFIER, "tfjs"), join(outside, "tfjs"), { recursive: true });
/** Replaces model.yaml after the manifest is written (the helper writes it last). */
const manifestLater = (dir: string, content: Buffer | string | (() => void)) => () => {
  const yaml = join(dir, "model.yaml");
  if (typeof content === "function") {
    unlinkSync(yaml);
    content();
  } else writeFileSync(yaml, content);
};

/** Read-time refusals: each one is thrown by loadModelPackage, before any runtime sees a byte. */
const FILE_CASES: Case[] = [
  ["weights are a link to /dev/zero", (d) => (unlinkSync(join(d, "model.onnx")), symlinkSync("/dev/zero", join(d, "model.onnx"))), "E_MODEL_FILE", /model\.onnx: is a symbolic link/, false],
  ["weights link to a copy outside the package", (d) => (unlinkSync(join(d, "model.onnx")), symlinkSync(join(outside, "model.onnx"), join(d, "model.onnx"))), "E_MODEL_FILE", /is a symbolic link/, false],
  ["weights link to another file of the package", (d) => (unlinkSync(join(d, "model.onnx")), symlinkSync("model.int8.onnx", join(d, "model.onnx"))), "E_MODEL_FILE", /is a symbolic link/, false],
  ["a folder of the package links outside it", (d) => (rmSync(join(d, "tfjs"), { recursive: true }), symlinkSync(join(outside, "tfjs"), join(d, "tfjs"))), "E_MODEL_FILE", /tfjs\/model\.json: is outside the package/, false],
  ["weights are a FIFO (a read would wait for a writer forever)", (d) => (unlinkSync(join(d, "model.onnx")), execFileSync("mkfifo", [join(d, "model.onnx")])), "E_MODEL_FILE", /is a FIFO, not a regular file/, false],
  ["weights are a folder", (d) => (unlinkSync(join(d, "model.onnx")), mkdirSync(join(d, "model.onnx"))), "E_MODEL_FILE", /is a directory, not a regular file/, false],
  ["weights are missing", (d) => unlinkSync(join(d, "model.onnx")), "E_MODEL_FILE", /model\.onnx: cannot read: file not found/, false],
  ["a listed folder is missing", (d) => rmSync(join(d, "tfjs"), { recursive: true }), "E_MODEL_FILE", /tfjs\/model\.json: cannot read: ENOENT/, false],
  ["weights longer than the manifest says", (d) => appendFileSync(join(d, "model.onnx"), Buffer.alloc(4096)), "E_MODEL_HASH", /model\.onnx: \d+ bytes, the manifest says \d+/, false],
  ["weights shorter than the manifest says", (d) => writeFileSync(join(d, "model.onnx"), "x"), "E_MODEL_TRUNCATED", /truncated: 1 of \d+ bytes/, false],
  ["a file the manifest says is 2 GiB", (_, m) => (m.files[0]!.bytes = 2 ** 31), "E_MODEL_MANIFEST", /files\.0\.bytes: at most 1073741824 bytes/, false],
  ["a negative size", (_, m) => (m.files[0]!.bytes = -1), "E_MODEL_MANIFEST", /files\.0\.bytes:/, false],
  ["a fractional size", (_, m) => (m.files[0]!.bytes = 1.5), "E_MODEL_MANIFEST", /files\.0\.bytes: Expected integer/, false],
  ["an upper-case hash", (_, m) => (m.files[0]!.sha256 = m.files[0]!.sha256.toUpperCase()), "E_MODEL_MANIFEST", /files\.0\.sha256: must be 64 lowercase hex digits/, false],
  ["a hash of the wrong length", (_, m) => (m.files[0]!.sha256 = "ab"), "E_MODEL_MANIFEST", /files\.0\.sha256/, false],
  ["a path out of the package", (_, m) => (m.files[0]!.path = "../outside/model.onnx"), "E_MODEL_MANIFEST", /files\.0\.path: must be a path inside the package/, false],
  ["an absolute path", (_, m) => (m.files[0]!.path = "/etc/passwd"), "E_MODEL_MANIFEST", /files\.0\.path: must be a path inside the package/, false],
  ["a backslashed path out", (_, m) => (m.files[0]!.path = "..\\..\\etc\\passwd"), "E_MODEL_MANIFEST", /must be a path inside the package/, false],
  ["an empty path", (_, m) => (m.files[0]!.path = ""), "E_MODEL_MANIFEST", /files\.0\.path/, false],
  ["a variant's model not listed", (_, m) => (m.files = m.files.filter((f) => f.path !== "model.onnx")), "E_MODEL_MANIFEST", /variants\.float32\.model: 'model\.onnx' is not listed in files/],
  ["a golden image not listed", (_, m) => ((m.golden as Array<{ image: string }>)[0]!.image = "golden/other.png"), "E_MODEL_MANIFEST", /golden\.0\.image: 'golden\/other\.png' is not listed/],
  ["an extra key", (_, m) => (m.licence = "MIT"), "E_MODEL_MANIFEST", /Unrecognized key\(s\) in object: 'licence'/],
  ["an unknown dtype", (_, m) => (input(m).dtype = "float16"), "E_MODEL_MANIFEST", /input\.dtype: Invalid enum value/],
  ["an unknown layout", (_, m) => (input(m).layout = "CHWN"), "E_MODEL_MANIFEST", /input\.layout: Invalid enum value/],
  ["a 3-D input shape", (_, m) => (input(m).shape = [3, 64, 64]), "E_MODEL_MANIFEST", /input\.shape: Array must contain exactly 4/],
  ["a zero dimension", (_, m) => (input(m).shape = [1, 3, 0, 64]), "E_MODEL_MANIFEST", /input\.shape\.2/],
  ["a fractional dimension", (_, m) => (input(m).shape = [1, 3, 63.5, 64]), "E_MODEL_MANIFEST", /input\.shape\.2/],
  ["a huge declared input shape", (_, m) => (input(m).shape = ["batch", 3, 100000, 100000]), "E_MODEL_SHAPE", /elements per image, more than the \d+ a model input may have/],
  ["a huge shape from a variant's override", (_, m) => ((m.variants as Record<string, Record<string, unknown>>).float32!.input = { shape: [1, 3, 65536, 65536] }), "E_MODEL_SHAPE", /variants\.float32: input: shape .* more than/],
  ["a symbolic height", (_, m) => (input(m).shape = [1, 3, "h", 64]), "E_MODEL_SHAPE", /height and width must be fixed numbers/],
  ["channels that contradict the colour", (_, m) => (input(m).color = "GRAY"), "E_MODEL_SHAPE", /must have 1 channel\(s\) for color GRAY/],
  ["a mean for 2 channels", (_, m) => ((input(m).normalize as Record<string, unknown>).mean = [0, 0]), "E_MODEL_MANIFEST", /input\.normalize\.mean: 2 values for 3 channel/],
  ["a zero std", (_, m) => ((input(m).normalize as Record<string, unknown>).std = [0]), "E_MODEL_MANIFEST", /input\.normalize\.std\.0/],
  ["duplicate labels", (_, m) => (m.labels = ["ok", "ok", "stain", "hole"]), "E_MODEL_LABELS", /labels: 'ok' appears twice/],
  ["a label with a path in it", (_, m) => (m.labels = ["ok", "../x", "stain", "hole"]), "E_MODEL_MANIFEST", /labels\.1: only letters/],
  ["a 100-character label", (_, m) => (m.labels = ["ok", "x".repeat(100), "stain", "hole"]), "E_MODEL_MANIFEST", /labels\.1/],
  ["no labels", (_, m) => (m.labels = []), "E_MODEL_MANIFEST", /labels: Array must contain at least 1/],
  ["an unknown head", (_, m) => (m.head = { type: "segment" }), "E_MODEL_MANIFEST", /head\.type: Invalid discriminator value/],
  ["a threshold above 1", (_, m) => (m.thresholds = { default: 1.5 }), "E_MODEL_MANIFEST", /thresholds\.default: Number must be less than or equal to 1/],
  ["a NaN-like threshold", (_, m) => (m.thresholds = { default: ".nan" }), "E_MODEL_MANIFEST", /thresholds\.default: Expected number/],
  ["top_k beyond the labels", (_, m) => (m.head = { type: "classify", top_k: 9 }), "E_MODEL_LABELS", /head\.top_k: 9 is more than the 4 labels/],
  ["a 1000-column tiling", (_, m) => (m.tiling = { cols: 1000, rows: 1 }), "E_MODEL_MANIFEST", /tiling\.cols: Number must be less than or equal to 16/],
  ["an ROI of zero width", (_, m) => (m.roi = [0, 0, 0, 10]), "E_MODEL_MANIFEST", /roi\.2/],
  ["no variants", (_, m) => (m.variants = {}), "E_MODEL_MANIFEST", /variants: at least one variant/],
  ["a default variant that does not exist", (_, m) => (m.default_variant = "fp64"), "E_MODEL_VARIANT", /no variant 'fp64'/],
];

/** model.yaml itself. */
const MANIFEST_CASES: Array<[string, (dir: string) => () => void, RegExp]> = [
  ["model.yaml links to /dev/zero", (d) => manifestLater(d, () => symlinkSync("/dev/zero", join(d, "model.yaml"))), /model\.yaml: cannot read: is a symbolic link/],
  ["model.yaml is a FIFO", (d) => manifestLater(d, () => execFileSync("mkfifo", [join(d, "model.yaml")])), /cannot read: is a FIFO, not a regular file/],
  ["model.yaml is missing", (d) => manifestLater(d, () => undefined), /cannot read: file not found/],
  ["model.yaml is 300 kB", (d) => manifestLater(d, `name: x\n${"# padding\n".repeat(30_000)}`), /cannot read: is \d+ bytes, more than the 262144 allowed/],
  ["model.yaml is an alias bomb", (d) => manifestLater(d, aliasBomb()), /YAML: Excessive alias count/],
  ["model.yaml is binary", (d) => manifestLater(d, Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0, 1, 2, 3, 0xff, 0xfe])), /model\.yaml: /],
  ["model.yaml is a list", (d) => manifestLater(d, "- a\n- b\n"), /\(top level\): Expected object, received array/],
  ["model.yaml is empty", (d) => manifestLater(d, ""), /\(top level\): (Required|Expected object)/],
  ["model.yaml repeats a key", (d) => manifestLater(d, `${readFileSync(join(d, "model.yaml"), "utf8")}\nname: again\n`), /YAML: Map keys must be unique/],
  ["model.yaml nests 10000 lists", (d) => manifestLater(d, `name: ${"[".repeat(10_000)}${"]".repeat(10_000)}\n`), /YAML: Maximum call stack size exceeded/],
  ["model.yaml is not YAML", (d) => manifestLater(d, "name: [unclosed\n"), /YAML: /],
];

/** Each case edits a copy of the package; opening it must fail with that code and message. */
async function expectRefused(cases: Array<[string, Edit, string, RegExp]>, open: (dir: string) => Promise<{ close?(): Promise<void> | void }>): Promise<void> {
  const failures: string[] = [];
  for (const [name, edit, code, message] of cases) {
    const dir = editedPackage(edit);
    try {
      await open(dir).then(
        async (b) => (await b.close?.(), failures.push(`${name}: accepted`)),
        (err: Error & { code?: string }) => {
          if (err.code !== code || !message.test(err.message)) failures.push(`${name}: ${err.code}: ${err.message}`);
        },
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  assert.deepEqual(failures, []);
}

test("every hostile package file and manifest field is refused with its code, before a runtime sees a byte", () => {
  const failures: string[] = [];
  const check = (name: string, dir: string, code: string, message: RegExp) => {
    const t0 = Date.now();
    try {
      loadModelPackage(dir);
      failures.push(`${name}: accepted`);
    } catch (err) {
      const e = err as Error & { code?: string };
      if (e.code !== code || !message.test(e.message)) failures.push(`${name}: ${e.code}: ${e.message}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    // /dev/zero or a FIFO must not be read at all: no case takes more than a moment.
    if (Date.now() - t0 > 15_000) failures.push(`${name}: took ${Date.now() - t0} ms`);
  };
  for (const [name, edit, code, message, rehash] of FILE_CASES) check(name, editedPackage(edit, rehash ?? true), code, message);
  for (const [name, later, message] of MANIFEST_CASES) {
    let after: () => void = () => undefined;
    const dir = editedPackage((d) => void (after = later(d)), false);
    after();
    check(name, dir, "E_MODEL_MANIFEST", message);
  }
  assert.deepEqual(failures, []);
});

test("files in the package that the manifest does not list are never read: a link to /dev/zero beside the model is harmless", () => {
  const dir = editedPackage((d) => {
    symlinkSync("/dev/zero", join(d, "zero.bin"));
    execFileSync("mkfifo", [join(d, "pipe")]);
  });
  try {
    assert.equal(loadModelPackage(dir, { variant: "float32" }).manifest.name, "tiny-classifier");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("files whose bytes are wrong for their role are refused by the runtime or the golden check, with their codes", async () => {
  const cases: Array<[string, Edit, string, RegExp]> = [
    ["weights that are a PNG", (d) => cpSync(join(d, "golden/ok-00.png"), join(d, "model.onnx")), "E_MODEL_CORRUPT", /onnxruntime cannot load it/],
    ["weights that are empty", (d) => writeFileSync(join(d, "model.onnx"), ""), "E_MODEL_CORRUPT", /onnxruntime cannot load it/],
    ["a golden image that is text", (d) => writeFileSync(join(d, "golden/ok-00.png"), "not an image"), "E_MODEL_GOLDEN", /golden image golden\/ok-00\.png: not one of the image formats.*\(E_IMAGE_FORMAT\)/],
    ["a golden image that is cut short", (d) => writeFileSync(join(d, "golden/ok-00.png"), readFileSync(join(d, "golden/ok-00.png")).subarray(0, 100)), "E_MODEL_GOLDEN", /\(E_IMAGE\)/],
    ["a golden image that is the weights", (d) => cpSync(join(d, "model.onnx"), join(d, "golden/ok-00.png")), "E_MODEL_GOLDEN", /\(E_IMAGE_FORMAT\)/],
    ["a model for another input size", (_, m) => (input(m).shape = [1, 3, 32, 32]), "E_MODEL_SHAPE", /the model's input is/],
  ];
  await expectRefused(cases, (dir) => createOnnx({ dir, variant: "float32", intraOpThreads: 1, interOpThreads: 1, spinning: false, graphOptimization: "all", providers: ["cpu"] }));
});

test("a TF.js model.json that is hostile is refused with its code", async () => {
  const modelJson = (d: string, change: (j: Record<string, unknown>) => unknown) => {
    const f = join(d, "tfjs/model.json");
    writeFileSync(f, JSON.stringify(change(JSON.parse(readFileSync(f, "utf8")) as Record<string, unknown>)));
  };
  type Weights = Array<{ paths: string[]; weights: Array<{ shape: number[] }> }>;
  const cases: Array<[string, Edit, string, RegExp]> = [
    ["model.json is null", (d) => modelJson(d, () => null), "E_MODEL_CORRUPT", /not a TF\.js model\.json: not a JSON object/],
    ["model.json is a list", (d) => modelJson(d, () => []), "E_MODEL_CORRUPT", /not a JSON object/],
    ["model.json is not JSON", (d) => writeFileSync(join(d, "tfjs/model.json"), "{"), "E_MODEL_CORRUPT", /not a TF\.js model\.json/],
    ["model.json has no topology", (d) => modelJson(d, (j) => ({ ...j, modelTopology: undefined })), "E_MODEL_CORRUPT", /no modelTopology or weightsManifest/],
    ["a weight shard outside the package", (d) => modelJson(d, (j) => ((j.weightsManifest as Weights)[0]!.paths = ["../../../etc/passwd"], j)), "E_MODEL_MANIFEST", /weight file '\.\.\/\.\.\/etc\/passwd' is not listed in files/],
    ["a weight with a huge shape", (d) => modelJson(d, (j) => ((j.weightsManifest as Weights)[0]!.weights[0]!.shape = [100000, 100000, 3, 16], j)), "E_MODEL_CORRUPT", /TF\.js cannot load it/],
  ];
  await expectRefused(cases, (dir) => createTfjs({ dir, variant: "tfjs", backends: ["cpu"] }));
});

test("a hot swap to a package whose weights link to /dev/zero is refused at once and memory stays where it was", async () => {
  const yaml = `
line: { mode: free-run, travel_ms: 400, decision_margin_ms: 20 }
camera: { type: synthetic, width: 160, height: 120, fps: 20, seed: 5, defect_rate: 0.3 }
engine: { type: onnx, package: ${JSON.stringify(CLASSIFIER)}, variant: float32, providers: [cpu], threads: { intra_op: 1 } }
lifecycle: { progress_report_ms: 60000 }
`;
  const app = new App(lineConfig(yaml), quietLog());
  const dir = editedPackage((d) => (renameSync(join(d, "model.onnx"), join(d, "real.onnx")), symlinkSync("/dev/zero", join(d, "model.onnx"))), false);
  await app.start();
  try {
    const rss0 = process.memoryUsage().rss;
    const t0 = Date.now();
    await assert.rejects(app.swapModel(dir, "float32"), (err: Error & { code?: string }) => {
      assert.equal(err.code, "E_MODEL_FILE");
      assert.match(err.message, /model swap refused, keeping tiny-classifier 1\.0\.0: .*model\.onnx: is a symbolic link/);
      return true;
    });
    assert.ok(Date.now() - t0 < 30_000, "refused at once, not after reading");
    assert.ok(process.memoryUsage().rss - rss0 < 200 * 2 ** 20, "the swap grew RSS by more than 200 MB");
    assert.equal(app.health().modelVersion, "1.0.0");
    assert.equal(app.health().state, "running");
  } finally {
    await app.stop("test");
    rmSync(dir, { recursive: true, force: true });
  }
});

test.after(() => rmSync(outside, { recursive: true, force: true }));
