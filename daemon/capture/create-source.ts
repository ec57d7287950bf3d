import type { CameraConfig } from "../config/schema.js";
import { ImageFolderSource } from "./image-folder-source.js";
import { OpenCvSource } from "./opencv-source.js";
import type { FrameSource } from "./source.js";
import { SyntheticSource } from "./synthetic-source.js";

/** Picks the source for a camera config; runs inside the capture thread. */
export function createSource(c: CameraConfig): FrameSource {
  switch (c.type) {
    case "synthetic":
      return new SyntheticSource(c);
    case "folder":
      return new ImageFolderSource(c);
    case "v4l2":
    case "gstreamer":
    case "url":
    case "file":
      return new OpenCvSource(c);
  }
}
