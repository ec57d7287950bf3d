import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { hasGstreamer, NO_GSTREAMER } from "../../daemon/capture/opencv-source.js";
import { collect, newCamera, tempDir } from "./camera-fixtures.js";

async function refused(camera: Record<string, unknown>, code: string, message: RegExp): Promise<void> {
  const cam = newCamera(camera);
  await assert.rejects(cam.start(() => undefined), (err: Error & { code?: string }) => {
    assert.equal(err.code, code);
    assert.match(err.message, message);
    return true;
  });
  assert.equal(cam.stats().connected, false);
}

test("a missing video file is refused at start with a coded error", async (t) => {
  const dir = tempDir(t);
  await refused({ type: "file", path: join(dir, "nope.avi") }, "E_CAMERA_NOT_FOUND", /nope\.avi: no such file/);
});

test("a file that is not a video is refused at start with a coded error", async (t) => {
  const dir = tempDir(t);
  const file = join(dir, "garbage.avi");
  writeFileSync(file, Buffer.alloc(64 * 1024, 0x5a));
  await refused({ type: "file", path: file }, "E_CAMERA_FORMAT", /not a video OpenCV can decode/);
});

test("an empty, missing or corrupt image folder is refused at start with a coded error", async (t) => {
  const dir = tempDir(t);
  await refused({ type: "folder", path: join(dir, "none") }, "E_CAMERA_NOT_FOUND", /no such folder/);
  mkdirSync(join(dir, "empty"));
  writeFileSync(join(dir, "empty", "notes.txt"), "not an image");
  await refused({ type: "folder", path: join(dir, "empty") }, "E_CAMERA_EMPTY", /holds no images/);
  mkdirSync(join(dir, "corrupt"));
  writeFileSync(join(dir, "corrupt", "0001.png"), "this is not a png");
  await refused({ type: "folder", path: join(dir, "corrupt") }, "E_CAMERA_DECODE", /0001\.png cannot be decoded/);
});

test("malformed ground truth next to a video is a coded error", async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, "truth.json"), JSON.stringify({ generator: "edge-inspect synth", parts: "many" }));
  mkdirSync(join(dir, "images"));
  await refused({ type: "folder", path: join(dir, "images"), truth: join(dir, "truth.json") }, "E_TRUTH_MALFORMED", /truth\.json/);
});

test("a GStreamer pipeline ending in appsink delivers frames, or is refused with a clear message", async () => {
  const camera = { type: "gstreamer", pipeline: "videotestsrc is-live=false ! video/x-raw,width=320,height=240 ! videoconvert ! appsink" };
  if (!hasGstreamer()) {
    await refused(camera, "E_CAMERA_UNSUPPORTED", new RegExp(NO_GSTREAMER.slice(0, 40).replace(/[()]/g, ".")));
    return;
  }
  const frames = await collect(newCamera(camera), (f) => f.length >= 5);
  assert.ok(frames.length >= 5);
  for (const f of frames) {
    assert.equal(f.width, 320);
    assert.equal(f.height, 240);
    assert.equal(f.data.length, 320 * 240 * 3);
  }
});

test("a V4L2 device that does not exist is refused at start with a coded error", async () => {
  await refused({ type: "v4l2", device: "/dev/video63" }, "E_CAMERA_NOT_FOUND", /no such device/);
});
