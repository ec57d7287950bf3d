import { createRequire } from "node:module";
import type * as OpenCV from "@u4/opencv4nodejs";

export type Mat = OpenCV.Mat;
type CV = typeof OpenCV.cv;

const MULTIARCH: Record<string, string> = { x64: "x86_64-linux-gnu", arm64: "aarch64-linux-gnu", arm: "arm-linux-gnueabihf" };

/**
 * The OpenCV binding, built against the system OpenCV (libopencv-dev, or
 * JetPack's). Its loader wants to know where that OpenCV lives and would
 * otherwise try to build one; it also chatters on stdout at require time,
 * which would land in the journal between our JSON lines, so it is silenced.
 */
function load(): CV {
  const env = process.env;
  env.OPENCV4NODEJS_DISABLE_AUTOBUILD ??= "1";
  env.OPENCV_INCLUDE_DIR ??= "/usr/include/opencv4";
  env.OPENCV_LIB_DIR ??= `/usr/lib/${MULTIARCH[process.arch] ?? `${process.arch}-linux-gnu`}`;
  env.OPENCV_BIN_DIR ??= "/usr/bin";
  const require = createRequire(import.meta.url);
  const fromBinding = createRequire(require.resolve("@u4/opencv4nodejs"));
  (fromBinding("@u4/opencv-build") as { Log: { silence: boolean } }).Log.silence = true;
  return (require("@u4/opencv4nodejs") as typeof OpenCV).cv;
}

export const cv: CV = load();
