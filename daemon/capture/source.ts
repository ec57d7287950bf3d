import type { Mat } from "../vision/opencv.js";
import type { GroundTruth } from "./camera.js";

/** What a source reports once it is open. */
export interface SourceInfo {
  /** e.g. "opencv-ffmpeg", "opencv-v4l2", "image-folder", "synthetic" */
  backend: string;
  /** Frames per second the source runs at, when it knows. */
  fps: number | undefined;
  /** Settings the driver did not take (a V4L2 camera without manual gain...). */
  refused: string[];
}

export interface SourceFrame {
  /** 3-channel BGR. */
  image: Mat;
  truth?: GroundTruth;
}

/**
 * A frame source as the capture thread sees it: calls may block that thread
 * (a device read waits for the sensor), never the daemon's event loop.
 */
export interface FrameSource {
  /** Throws a coded EdgeError when the source cannot be opened or is not what it claims. */
  open(): SourceInfo;
  /** The next frame, or undefined when a finite source (a file played once) has ended. */
  read(): SourceFrame | undefined;
  close(): void;
}
