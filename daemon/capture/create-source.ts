import { statSync } from "node:fs";
import type { CameraConfig } from "../config/schema.js";
import { ImageFolderSource } from "./image-folder-source.js";
import { OpenCvSource } from "./opencv-source.js";
import type { FrameSource } from "./source.js";
import { SyntheticSource } from "./synthetic-source.js";
import { ReplaySource } from "./replay-source.js";

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
    case "replay":
      return new ReplaySource(c, replayed(c));
  }
}

/** What a replay camera decodes: its recording as a stored source, read once from start to end. */
function replayed(c: Extract<CameraConfig, { type: "replay" }>): FrameSource {
  const common = { stall_ms: c.stall_ms, open_timeout_ms: c.open_timeout_ms, reconnect: c.reconnect, queue: c.queue };
  const stored = { path: c.path, loop: false, pacing: "fast" as const, fps: c.fps, ...(c.truth ? { truth: c.truth } : {}), ...common };
  return statSync(c.path, { throwIfNoEntry: false })?.isDirectory() ? new ImageFolderSource({ type: "folder", ...stored }) : new OpenCvSource({ type: "file", ...stored });
}
