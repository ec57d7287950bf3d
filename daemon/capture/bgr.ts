import { cv, type Mat } from "../vision/opencv.js";

/** Frames leave capture as packed 3-channel BGR, whatever the source delivered. */
export function toBgr(m: Mat): Mat {
  if (m.channels === 3) return m;
  if (m.channels === 1) return m.cvtColor(cv.COLOR_GRAY2BGR);
  if (m.channels === 4) return m.cvtColor(cv.COLOR_BGRA2BGR);
  return m;
}
