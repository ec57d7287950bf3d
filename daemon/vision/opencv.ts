import { copyFileSync, mkdirSync, unlinkSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { isMainThread, threadId } from "node:worker_threads";
import type * as OpenCV from "@u4/opencv4nodejs";

export type Mat = OpenCV.Mat;
type CV = typeof OpenCV.cv;

const MULTIARCH: Record<string, string> = { x64: "x86_64-linux-gnu", arm64: "aarch64-linux-gnu", arm: "arm-linux-gnueabihf" };

/**
 * The OpenCV binding, built against the system OpenCV (libopencv-dev, or
 * JetPack's). Its loader wants to know where that OpenCV lives and would
 * otherwise try to build one; it also chatters on stdout at require time,
 * which would land in the journal between our JSON lines, so it is silenced.
 *
 * The binding keeps its classes in process-wide statics: a second thread that
 * loads it takes them over (the first thread's type checks then fail) and a
 * thread that loads it after another ended crashes the process. So each worker
 * thread loads a private copy of the .node file (dlopen maps a different file
 * as a separate library with its own statics); the main thread loads the
 * package as it is. Copies are unlinked once mapped.
 */
function load(): CV {
  const env = process.env;
  env.OPENCV4NODEJS_DISABLE_AUTOBUILD ??= "1";
  env.OPENCV_INCLUDE_DIR ??= "/usr/include/opencv4";
  env.OPENCV_LIB_DIR ??= `/usr/lib/${MULTIARCH[process.arch] ?? `${process.arch}-linux-gnu`}`;
  env.OPENCV_BIN_DIR ??= "/usr/bin";
  // OpenCV's own warnings (a camera index that does not open...) become our coded errors instead.
  env.OPENCV_LOG_LEVEL ??= "ERROR";
  // The binding's memory-tracking allocator is process-wide and bound to the thread
  // that installed it: once that thread ends, every other thread's Mats crash.
  env.OPENCV4NODEJS_DISABLE_EXTERNAL_MEM_TRACKING ??= "1";
  const require = createRequire(import.meta.url);
  const entry = require.resolve("@u4/opencv4nodejs");
  let cv: CV;
  if (isMainThread) {
    const fromBinding = createRequire(entry);
    (fromBinding("@u4/opencv-build") as { Log: { silence: boolean } }).Log.silence = true;
    cv = (require("@u4/opencv4nodejs") as typeof OpenCV).cv;
  } else {
    cv = loadPrivateCopy(join(dirname(entry), "..", ".."));
  }
  // A worker's environment writes do not reach getenv(): switch the allocator off directly too.
  if (cv.isCustomMatAllocatorEnabled()) cv.dangerousDisableCustomMatAllocator();
  return cv;
}

/** The package's loader, minus the build checks, over a per-thread copy of the binding. */
function loadPrivateCopy(root: string): CV {
  const require = createRequire(join(root, "package.json"));
  const dir = join(tmpdir(), "edge-inspect-opencv");
  mkdirSync(dir, { recursive: true });
  const copy = join(dir, `opencv4nodejs-${process.pid}-${threadId}.node`);
  copyFileSync(join(root, "build", "Release", "opencv4nodejs.node"), copy);
  let base: unknown;
  try {
    base = require(copy);
  } finally {
    unlinkSync(copy);
  }
  type Wrap = { default: (cv: unknown) => unknown };
  const promisified = (require(join(root, "cjs", "lib", "promisify.js")) as Wrap).default(base);
  return (require(join(root, "cjs", "lib", "ext", "index.js")) as Wrap).default(promisified) as CV;
}

export const cv: CV = load();

/**
 * Releases `old` and returns `next`, for a chain of OpenCV steps. The binding
 * does not tell V8 how many bytes a Mat holds (its memory tracking is off, see
 * above), so pixels left to the garbage collector pile up: a few frames' worth
 * per frame until V8 happens to collect. Hot paths release what they made.
 */
export function replaceMat<T extends Mat>(old: Mat, next: T): T {
  if (old !== next) old.release();
  return next;
}
