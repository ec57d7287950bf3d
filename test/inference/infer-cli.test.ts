import { test } from "node:test";
import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { cmdInfer } from "../../daemon/cli/infer.js";
import { CLASSIFIER, CLASSIFY_IMAGES, FIXTURES } from "./fixtures.js";

function sink(): { out: Writable; text: () => string } {
  let buf = "";
  const out = new Writable({ write: (chunk, _enc, cb) => ((buf += String(chunk)), cb()) });
  return { out, text: () => buf };
}

test("infer --json prints each image's verdict and scores; an unreadable image is an error line and exit 1", async () => {
  const s = sink();
  const rc = await cmdInfer(["--model", CLASSIFIER, "--variant", "int8", "--json", `${CLASSIFY_IMAGES}/hole-03.png`, "/no/such.png"], s.out);
  assert.equal(rc, 1);
  const [hole, missing] = s.text().trim().split("\n").map((l) => JSON.parse(l));
  assert.equal(hole.verdict, "reject");
  assert.equal(hole.findings[0].class, "hole");
  assert.deepEqual(Object.keys(hole.scores), ["ok", "scratch", "stain", "hole"]);
  assert.equal(missing.error.code, "E_IMAGE");
});

test("infer prints boxes in frame pixels for a detection package", async () => {
  const s = sink();
  const rc = await cmdInfer(["-m", `${FIXTURES}models/yolov5-const`, `${CLASSIFY_IMAGES}/ok-00.png`], s.out);
  assert.equal(rc, 0);
  assert.match(s.text(), /^model yolov5-const 1\.0\.0 \(float32, float32\) on onnxruntime\/cpu$/m);
  assert.match(s.text(), /ok-00\.png: reject \([\d.]+ ms\): scratch 0\.720 at \[\d+, \d+, \d+, \d+\]/);
});
