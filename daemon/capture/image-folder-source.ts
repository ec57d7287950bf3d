import { readdirSync } from "node:fs";
import { extname, join } from "node:path";
import type { Mat } from "../vision/opencv.js";
import { readImageFile } from "../vision/read-image.js";
import type { CameraConfig } from "../config/schema.js";
import { EdgeError, errorCode, errorMessage } from "../util/errors.js";
import type { GroundTruth } from "./camera.js";
import type { FrameSource, SourceFrame, SourceInfo } from "./source.js";
import { fromTruthPart, readTruthFile } from "./truth-file.js";

type FolderConfig = Extract<CameraConfig, { type: "folder" }>;

const IMAGE_EXTENSIONS = new Set([".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".pgm", ".ppm"]);

/**
 * A folder of still images, one frame each, in natural name order
 * (img2 before img10). The folder is listed again on every pass, so images
 * added or removed while the line runs are picked up on the next loop.
 */
export class ImageFolderSource implements FrameSource {
  private files: string[] = [];
  private index = 0;
  private truth: Map<string, GroundTruth> | undefined;

  constructor(private readonly c: FolderConfig) {}

  open(): SourceInfo {
    if (this.c.truth) {
      this.truth = new Map(readTruthFile(this.c.truth).parts.flatMap((p) => (p.file ? [[p.file.split("/").pop()!, fromTruthPart(p)] as const] : [])));
    }
    this.list();
    // A folder of unreadable files is refused at start, not discovered frame by frame.
    this.decode(join(this.c.path, this.files[0]!)).release();
    return { backend: "image-folder", fps: this.c.fps, refused: [] };
  }

  read(): SourceFrame | undefined {
    if (this.index >= this.files.length) {
      if (!this.c.loop) return undefined;
      this.list();
    }
    const name = this.files[this.index++]!;
    const file = join(this.c.path, name);
    const frame: SourceFrame = { image: this.decode(file) };
    const truth = this.truth?.get(name);
    if (truth) frame.truth = truth;
    return frame;
  }

  close(): void {
    this.files = [];
  }

  private decode(file: string): Mat {
    try {
      return readImageFile(file);
    } catch (err) {
      throw new EdgeError("E_CAMERA_DECODE", `image ${file} cannot be decoded (${errorCode(err)}: ${errorMessage(err)})`);
    }
  }

  private list(): void {
    let names: string[];
    try {
      names = readdirSync(this.c.path);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new EdgeError("E_CAMERA_NOT_FOUND", `image folder ${this.c.path}: ${code === "ENOENT" ? "no such folder" : code === "ENOTDIR" ? "not a folder" : String(code ?? err)}`);
    }
    this.files = names.filter((n) => IMAGE_EXTENSIONS.has(extname(n).toLowerCase())).sort((a, b) => a.localeCompare(b, "en", { numeric: true }));
    this.index = 0;
    if (this.files.length === 0) {
      throw new EdgeError("E_CAMERA_EMPTY", `image folder ${this.c.path} holds no images (${[...IMAGE_EXTENSIONS].join(" ")})`);
    }
  }
}
