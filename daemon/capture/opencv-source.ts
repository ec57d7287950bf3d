import { statSync } from "node:fs";
import { cv } from "../vision/opencv.js";
import type { CameraConfig } from "../config/schema.js";
import { EdgeError } from "../util/errors.js";
import type { GroundTruth } from "./camera.js";
import { toBgr } from "./bgr.js";
import type { FrameSource, SourceFrame, SourceInfo } from "./source.js";
import { fromTruthPart, readTruthFile } from "./truth-file.js";

type OpenCvConfig = Extract<CameraConfig, { type: "v4l2" | "gstreamer" | "url" | "file" }>;
type VideoCapture = InstanceType<typeof cv.VideoCapture>;

/** Whether this OpenCV build has the GStreamer back end (Debian's and JetPack's do). */
export function hasGstreamer(): boolean {
  return /^\s*GStreamer:\s*YES/m.test(cv.getBuildInformation());
}

export const NO_GSTREAMER =
  "this OpenCV was built without GStreamer (cv.getBuildInformation() shows 'GStreamer: NO'): use a build with it (Debian's libopencv-dev, JetPack's OpenCV) or camera type v4l2/url";

/**
 * V4L2 devices, GStreamer pipelines, network streams and video files, through
 * OpenCV's VideoCapture. A looping file is reopened at its end rather than
 * rewound, so a file that was deleted or replaced is noticed; a file that ends
 * before the frame count in its header was truncated, which is an error.
 */
export class OpenCvSource implements FrameSource {
  private cap: VideoCapture | undefined;
  private frameCount = 0;
  private index = 0;
  private truth: Map<number, GroundTruth> | undefined;

  constructor(private readonly c: OpenCvConfig) {}

  open(): SourceInfo {
    const c = this.c;
    if (c.type === "file") {
      if (c.truth) this.truth = new Map(readTruthFile(c.truth).parts.map((p) => [p.frame, fromTruthPart(p)]));
    }
    if (c.type === "gstreamer" && !hasGstreamer()) throw new EdgeError("E_CAMERA_UNSUPPORTED", NO_GSTREAMER);
    this.cap = this.openCapture();
    const refused = c.type === "v4l2" ? this.applyV4l2Settings(c) : [];
    const fps = this.cap.get(cv.CAP_PROP_FPS);
    return { backend: `opencv-${this.backendName()}`, fps: fps > 0 && fps < 1000 ? fps : undefined, refused };
  }

  read(): SourceFrame | undefined {
    let m = this.cap!.read();
    if (m.empty && this.c.type === "file") {
      this.checkComplete();
      if (!this.c.loop) return undefined;
      this.cap!.release();
      this.cap = this.openCapture();
      this.index = 0;
      m = this.cap.read();
    }
    if (m.empty) {
      throw new EdgeError("E_CAMERA_ENDED", `${this.describe()} stopped delivering frames`);
    }
    const frame: SourceFrame = { image: toBgr(m) };
    const truth = this.truth?.get(this.index);
    if (truth) frame.truth = truth;
    this.index++;
    return frame;
  }

  close(): void {
    this.cap?.release();
    this.cap = undefined;
  }

  private openCapture(): VideoCapture {
    const c = this.c;
    if (c.type === "file") {
      let isFile = false;
      try {
        isFile = statSync(c.path).isFile();
      } catch (err) {
        throw new EdgeError("E_CAMERA_NOT_FOUND", `video file ${c.path}: ${(err as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (err as Error).message}`);
      }
      if (!isFile) throw new EdgeError("E_CAMERA_NOT_FOUND", `video file ${c.path}: not a regular file`);
    }
    if (c.type === "v4l2" && typeof c.device === "string") {
      try {
        statSync(c.device);
      } catch {
        throw new EdgeError("E_CAMERA_NOT_FOUND", `V4L2 device ${c.device}: no such device`);
      }
    }
    let cap: VideoCapture;
    try {
      cap = new cv.VideoCapture(this.target(), this.api());
    } catch (err) {
      throw new EdgeError(c.type === "file" ? "E_CAMERA_FORMAT" : "E_CAMERA_OPEN", `${this.describe()}: ${this.whyNotOpened()} (${String(err)})`);
    }
    if (c.type === "file") {
      this.frameCount = cap.get(cv.CAP_PROP_FRAME_COUNT);
      this.index = 0;
    }
    return cap;
  }

  /** A file that ends well short of the frame count in its header was cut off. */
  private checkComplete(): void {
    if (this.frameCount > 0 && this.index + 1 < this.frameCount) {
      throw new EdgeError("E_CAMERA_TRUNCATED", `${this.describe()} ended after ${this.index} of ${this.frameCount} frames: truncated or still being written`);
    }
  }

  private applyV4l2Settings(c: Extract<OpenCvConfig, { type: "v4l2" }>): string[] {
    const cap = this.cap!;
    const refused: string[] = [];
    const set = (name: string, prop: number, value: number | undefined) => {
      if (value !== undefined && !cap.set(prop, value)) refused.push(name);
    };
    // A driver takes the nearest format, size or rate it has and reports success:
    // what it settled on is read back, and a difference counts as refused.
    const settled = (name: string, prop: number, asked: number | undefined, same: (got: number) => boolean, show: (v: number) => string) => {
      if (asked === undefined || refused.includes(name)) return;
      const got = cap.get(prop);
      if (!same(got)) refused.push(`${name} (asked ${show(asked)}, driver gave ${show(got)})`);
    };
    // FOURCC first: the sizes and rates a driver offers depend on the pixel format.
    const fourcc = c.fourcc ? cv.VideoWriter.fourcc(c.fourcc) : undefined;
    set("fourcc", cv.CAP_PROP_FOURCC, fourcc);
    set("width", cv.CAP_PROP_FRAME_WIDTH, c.width);
    set("height", cv.CAP_PROP_FRAME_HEIGHT, c.height);
    set("fps", cv.CAP_PROP_FPS, c.fps);
    settled("fourcc", cv.CAP_PROP_FOURCC, fourcc, (got) => got === fourcc, fourccText);
    settled("width", cv.CAP_PROP_FRAME_WIDTH, c.width, (got) => got === c.width, String);
    settled("height", cv.CAP_PROP_FRAME_HEIGHT, c.height, (got) => got === c.height, String);
    settled("fps", cv.CAP_PROP_FPS, c.fps, (got) => Math.abs(got - c.fps!) < 0.5, String);
    // V4L2 takes manual exposure only with auto exposure off (1 = manual mode).
    if (c.exposure !== undefined) set("auto_exposure", cv.CAP_PROP_AUTO_EXPOSURE, 1);
    set("exposure", cv.CAP_PROP_EXPOSURE, c.exposure);
    set("gain", cv.CAP_PROP_GAIN, c.gain);
    return refused;
  }

  private target(): string | number {
    const c = this.c;
    switch (c.type) {
      case "v4l2":
        return typeof c.device === "number" ? c.device : Number(c.device.slice("/dev/video".length));
      case "gstreamer":
        return c.pipeline;
      case "url":
        return c.url;
      case "file":
        return c.path;
    }
  }

  private api(): number {
    switch (this.c.type) {
      case "v4l2":
        return cv.CAP_V4L2;
      case "gstreamer":
        return cv.CAP_GSTREAMER;
      case "url":
      case "file":
        return cv.CAP_FFMPEG;
    }
  }

  private backendName(): string {
    return this.c.type === "v4l2" ? "v4l2" : this.c.type === "gstreamer" ? "gstreamer" : "ffmpeg";
  }

  private whyNotOpened(): string {
    switch (this.c.type) {
      case "v4l2":
        return "cannot open the device (missing, busy, or no permission: is the user in group 'video'?)";
      case "gstreamer":
        return "the pipeline did not start (unknown element, caps that do not negotiate, or no appsink)";
      case "url":
        return "cannot open the stream (unreachable, refused, or not a stream FFmpeg can read)";
      case "file":
        return "not a video OpenCV can decode (unknown container or codec, or corrupt)";
    }
  }

  private describe(): string {
    const c = this.c;
    switch (c.type) {
      case "v4l2":
        return `V4L2 device ${c.device}`;
      case "gstreamer":
        return `GStreamer pipeline '${c.pipeline}'`;
      case "url":
        return `stream ${c.url.replace(/\/\/[^@/]*@/, "//***@")}`;
      case "file":
        return `video file ${c.path}`;
    }
  }
}

/** A FOURCC code as its four characters. */
function fourccText(code: number): string {
  return String.fromCharCode(code & 0xff, (code >> 8) & 0xff, (code >> 16) & 0xff, (code >>> 24) & 0xff);
}
