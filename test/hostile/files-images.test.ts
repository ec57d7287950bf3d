import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Writable } from "node:stream";
import { cmdInfer } from "../../daemon/cli/infer.js";
import { createBackend } from "../../daemon/inference/onnx-backend.js";
import { cv } from "../../daemon/vision/opencv.js";
import { newCamera, tempDir } from "../capture/camera-fixtures.js";
import { CLASSIFIER, CLASSIFY_IMAGES, editedPackage } from "../inference/fixtures.js";
import { bmp, jpeg, png, ppm, tiff, webp } from "../vision/crafted-images.js";

const OK_IMAGE = `${CLASSIFY_IMAGES}/ok-00.png`;

/** Every kind of bad image file, with the code `infer` must answer for it. */
function hostileImages(dir: string): Array<[string, string]> {
  const real = readFileSync(OK_IMAGE);
  const jpg = cv.imencode(".jpg", cv.imread(OK_IMAGE));
  const files: Array<[string, Buffer | (() => void), string]> = [
    // The case: 30000 x 30000 in a few hundred bytes, in every format read.
    ["huge.png", png(30000, 30000), "E_IMAGE_SIZE"],
    ["huge.jpg", jpeg(30000, 30000), "E_IMAGE_SIZE"],
    ["huge.bmp", bmp(30000, 30000), "E_IMAGE_SIZE"],
    ["huge.tiff", tiff(30000, 30000), "E_IMAGE_SIZE"],
    ["huge.webp", webp(30000, 30000), "E_IMAGE_SIZE"],
    ["huge.ppm", ppm(30000, 30000), "E_IMAGE_SIZE"],
    ["long.png", png(1, 1 << 30), "E_IMAGE_SIZE"],
    ["max.png", png(0xffffffff, 0xffffffff), "E_IMAGE_SIZE"],
    ["bmp-negative.bmp", bmp(-30000, -30000), "E_IMAGE_SIZE"],
    ["zero.png", png(0, 0), "E_IMAGE_SIZE"],
    ["zero-width.jpg", jpeg(0, 480), "E_IMAGE_SIZE"],
    ["zero.bmp", bmp(640, 0), "E_IMAGE_SIZE"],
    ["zero.ppm", ppm(0, 0), "E_IMAGE_SIZE"],
    ["truncated.png", real.subarray(0, real.length >> 1), "E_IMAGE"],
    ["truncated.jpg", jpg.subarray(0, 200), "E_IMAGE"],
    ["header-only.png", real.subarray(0, 16), "E_IMAGE_FORMAT"],
    ["empty.png", Buffer.alloc(0), "E_IMAGE_FORMAT"],
    ["text.png", Buffer.from("this is not a png\n"), "E_IMAGE_FORMAT"],
    ["zeros.png", Buffer.alloc(4096), "E_IMAGE_FORMAT"],
    ["gif.gif", Buffer.from("GIF89a\x10\x00\x10\x00\x00\x00\x00;", "latin1"), "E_IMAGE_FORMAT"],
    ["scene.ntf", Buffer.concat([Buffer.from("NITF02.10"), Buffer.alloc(2000, 0x30)]), "E_IMAGE_FORMAT"],
    ["exr.exr", Buffer.from("762f3101020000000000", "hex"), "E_IMAGE_FORMAT"],
    ["svg.svg", Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="99999" height="99999"/>'), "E_IMAGE_FORMAT"],
    ["garbage-after-magic.png", Buffer.concat([real.subarray(0, 33), Buffer.alloc(500, 0xab)]), "E_IMAGE"],
    ["no-pixels.png", png(64, 64), "E_IMAGE"],
    ["no-pixels.bmp", bmp(64, 64), "E_IMAGE"],
    ["dev-zero.png", () => symlinkSync("/dev/zero", join(dir, "dev-zero.png")), "E_IMAGE"],
    ["fifo.png", () => execFileSync("mkfifo", [join(dir, "fifo.png")]), "E_IMAGE"],
    ["folder.png", () => mkdirSync(join(dir, "folder.png")), "E_IMAGE"],
    ["missing.png", () => undefined, "E_IMAGE"],
    ["dangling.png", () => symlinkSync(join(dir, "nowhere.png"), join(dir, "dangling.png")), "E_IMAGE"],
  ];
  return files.map(([name, content, code]) => {
    if (typeof content === "function") content();
    else writeFileSync(join(dir, name), content);
    return [join(dir, name), code];
  });
}

test("infer answers every hostile image with its code, one line each, and still judges the good ones", async (t) => {
  const dir = tempDir(t);
  const cases = hostileImages(dir);
  let text = "";
  const out = new Writable({ write: (c, _e, cb) => ((text += String(c)), cb()) });
  const images = [OK_IMAGE, ...cases.map(([f]) => f), `${CLASSIFY_IMAGES}/hole-03.png`];
  const rss0 = process.memoryUsage().rss;
  const rc = await cmdInfer(["--model", CLASSIFIER, "--variant", "int8", "--json", ...images], out);
  const grewMb = (process.memoryUsage().rss - rss0) / 2 ** 20;
  assert.equal(rc, 1);
  const lines = text.trim().split("\n").map((l) => JSON.parse(l) as { image: string; verdict?: string; error?: { code: string; message: string } });
  assert.equal(lines.length, images.length);
  assert.equal(lines[0]!.verdict, "pass");
  assert.equal(lines[lines.length - 1]!.verdict, "reject");
  const got = lines.slice(1, -1).map((l) => [l.image, l.error?.code ?? `verdict ${l.verdict}`]);
  assert.deepEqual(got, cases);
  // Refused from the header: no decoder ever held a 30000 x 30000 image (2.7 GB).
  assert.ok(grewMb < 400, `RSS grew ${grewMb.toFixed(0)} MB`);
  for (const l of lines.slice(1, -1)) assert.doesNotMatch(l.error!.message, /\n\s+at /);
});

test("the folder camera refuses a huge or fake image with E_CAMERA_DECODE naming the image's own code", async (t) => {
  const dir = tempDir(t);
  for (const [name, data, code] of [
    ["huge", png(30000, 30000), "E_IMAGE_SIZE"],
    ["fake", Buffer.from("not an image"), "E_IMAGE_FORMAT"],
  ] as const) {
    const folder = join(dir, name);
    mkdirSync(folder);
    writeFileSync(join(folder, "0001.png"), data);
    const cam = newCamera({ type: "folder", path: folder });
    await assert.rejects(cam.start(() => undefined), (err: Error & { code?: string }) => {
      assert.equal(err.code, "E_CAMERA_DECODE");
      assert.match(err.message, new RegExp(`0001\\.png cannot be decoded \\(${code}: `));
      return true;
    });
  }
  const dev = join(dir, "dev");
  mkdirSync(dev);
  symlinkSync("/dev/zero", join(dev, "0001.png"));
  await assert.rejects(newCamera({ type: "folder", path: dev }).start(() => undefined), /is a character device, not a regular file/);
});

test("a golden image with a huge header is refused at load: E_MODEL_GOLDEN, nothing decoded", async () => {
  const dir = editedPackage((d) => writeFileSync(join(d, "golden/ok-00.png"), png(30000, 30000)));
  try {
    await assert.rejects(
      createBackend({ dir, variant: "float32", intraOpThreads: 1, interOpThreads: 1, spinning: false, graphOptimization: "all", providers: ["cpu"] }),
      (err: Error & { code?: string }) => {
        assert.equal(err.code, "E_MODEL_GOLDEN");
        assert.match(err.message, /golden image golden\/ok-00\.png: png header says 30000 x 30000.*\(E_IMAGE_SIZE\)/);
        return true;
      },
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
