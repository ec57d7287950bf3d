import { copyFileSync, mkdirSync, unlinkSync } from "node:fs";
import { createRequire } from "node:module";
import { constants, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { isMainThread, threadId } from "node:worker_threads";
import type * as OpenCV from "@u4/opencv4nodejs";

export type Mat = OpenCV.Mat;
type CV = typeof OpenCV.cv;

/**
 * The OpenCV binding, built against the system OpenCV (libopencv-dev, or
 * JetPack's). The package's own entry point is not used: to find its binary
 * it constructs its build tool (@u4/opencv-build, some 140 modules that also
 * chatter on stdout), which cost about 40% of OpenCV's share of the daemon's
 * start (`taskset -c 0`, 390 → 220 ms here; far more on a slow board). The
 * binary, its promisified methods and its extensions are loaded directly.
 *
 * The binding keeps its classes in process-wide statics: a second thread that
 * loads it takes them over (the first thread's type checks then fail) and a
 * thread that loads it after another ended crashes the process. So each worker
 * thread loads a private copy of the .node file (dlopen maps a different file
 * as a separate library with its own statics); the main thread loads the
 * file as it is. Copies are unlinked once mapped.
 */
function load(): CV {
  const env = process.env;
  // OpenCV's own warnings (a camera index that does not open...) become our coded errors instead.
  env.OPENCV_LOG_LEVEL ??= "ERROR";
  // The binding's memory-tracking allocator is process-wide and bound to the thread
  // that installed it: once that thread ends, every other thread's Mats crash.
  env.OPENCV4NODEJS_DISABLE_EXTERNAL_MEM_TRACKING ??= "1";
  const root = join(dirname(createRequire(import.meta.url).resolve("@u4/opencv4nodejs")), "..", "..");
  const binary = join(root, "build", "Release", "opencv4nodejs.node");
  const cv = wrap(root, isMainThread ? createRequire(join(root, "package.json"))(binary) : loadPrivateCopy(binary));
  // A worker's environment writes do not reach getenv(): switch the allocator off directly too.
  if (cv.isCustomMatAllocatorEnabled()) cv.dangerousDisableCustomMatAllocator();
  return cv;
}

/** The binary, wrapped as the package's entry point wraps it (async methods promisified, extensions). */
function wrap(root: string, base: unknown): CV {
  const require = createRequire(join(root, "package.json"));
  type Wrap = { default: (cv: unknown) => unknown };
  const promisified = (require(join(root, "cjs", "lib", "promisify.js")) as Wrap).default(base);
  return (require(join(root, "cjs", "lib", "ext", "index.js")) as Wrap).default(promisified) as CV;
}

/** glibc's RTLD_NODELETE (not in os.constants.dlopen). */
const RTLD_NODELETE = 0x1000;

/**
 * A worker thread's copy of the binary, kept mapped after the thread ends:
 * Node closes a thread's addons before the thread's last collection, which
 * then ran the weak callbacks of OpenCV objects still wrapped into code no
 * longer there (SIGSEGV at stop, seen in the hardware lane after a camera
 * was reopened several times: more dead captures left to collect). One
 * mapping per worker thread started (about 6 MB) stays for the process's life.
 */
function loadPrivateCopy(binary: string): unknown {
  const dir = join(tmpdir(), "edge-inspect-opencv");
  mkdirSync(dir, { recursive: true });
  const copy = join(dir, `opencv4nodejs-${process.pid}-${threadId}.node`);
  copyFileSync(binary, copy);
  try {
    const addon = { exports: {} as unknown };
    process.dlopen(addon, copy, constants.dlopen.RTLD_LAZY | RTLD_NODELETE);
    return addon.exports;
  } finally {
    unlinkSync(copy);
  }
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
