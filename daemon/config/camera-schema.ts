import { z } from "zod";
import { NOVEL_DEFECTS } from "../capture/novel-kinds.js";
import { positiveMs } from "./schema-common.js";

// The camera section: every source type the capture thread opens.

/** Keys every camera source shares: how long a silence is a stall, how to reconnect. */
const cameraCommon = {
  /** No frame for this long while connected: the source is reopened. */
  stall_ms: positiveMs(600_000).default(2000),
  /** Opening the source (RTSP handshake, device probe) may take this long. */
  open_timeout_ms: positiveMs(600_000).default(10_000),
  reconnect: z
    .object({
      initial_ms: positiveMs(600_000).default(200),
      max_ms: positiveMs(3_600_000).default(10_000),
      /** Each delay is varied by up to this share, so stations do not retry in step. */
      jitter: z.number().min(0).max(1).default(0.2),
    })
    .strict()
    .default({}),
  /** Frames captured but not yet taken by the pipeline; beyond it a live source drops. */
  queue: z.number().int().min(1).max(64).default(2),
};
const frameSize = z.number().int().min(16).max(8192);
const pacing = z.enum(["realtime", "fast"]).default("realtime");

const syntheticCamera = z
  .object({
    type: z.literal("synthetic"),
    width: z.number().int().min(64).max(4096).default(640),
    height: z.number().int().min(64).max(4096).default(480),
    fps: z.number().min(0.1).max(1000).default(20),
    seed: z.number().int().min(0).default(1),
    defect_rate: z.number().min(0).max(1).default(0.2),
    /** Defect kinds no model was trained on, to measure escapes; none unless listed. */
    novel_defects: z
      .array(z.enum(NOVEL_DEFECTS))
      .refine((k) => new Set(k).size === k.length, "lists a kind twice")
      .default([]),
    /** Share of parts with one of novel_defects, taken before the trained defects. */
    novel_rate: z.number().min(0).max(1).default(0.1),
    ...cameraCommon,
  })
  .strict();

const v4l2Camera = z
  .object({
    type: z.literal("v4l2"),
    device: z.union([z.number().int().min(0).max(63), z.string().regex(/^\/dev\/video\d+$/, "must be an index or /dev/videoN")]).default(0),
    width: frameSize.optional(),
    height: frameSize.optional(),
    fps: z.number().min(0.1).max(1000).optional(),
    fourcc: z.string().length(4, "must be 4 characters, e.g. MJPG or YUYV").optional(),
    /** Manual exposure in the driver's units; leaving it out keeps auto exposure. */
    exposure: z.number().optional(),
    gain: z.number().optional(),
    ...cameraCommon,
  })
  .strict();

const gstreamerCamera = z
  .object({
    type: z.literal("gstreamer"),
    pipeline: z.string().regex(/appsink(\s+[^!]*)?$/, "must end in an appsink element"),
    ...cameraCommon,
  })
  .strict();

const urlCamera = z
  .object({
    type: z.literal("url"),
    url: z.string().regex(/^(rtsps?|https?|rtmp|udp|tcp):\/\/\S+$/, "must be an rtsp://, http(s)://, rtmp://, udp:// or tcp:// URL"),
    ...cameraCommon,
  })
  .strict();

const fileCamera = z
  .object({
    type: z.literal("file"),
    path: z.string().min(1),
    loop: z.boolean().default(false),
    /** realtime: at the file's frame rate (or fps); fast: as fast as the pipeline takes frames. */
    pacing,
    fps: z.number().min(0.1).max(1000).optional(),
    /** Ground truth written by `edge-inspect synth`, attached to each frame. */
    truth: z.string().min(1).optional(),
    ...cameraCommon,
  })
  .strict();

const folderCamera = z
  .object({
    type: z.literal("folder"),
    path: z.string().min(1),
    loop: z.boolean().default(false),
    pacing,
    fps: z.number().min(0.1).max(1000).default(10),
    truth: z.string().min(1).optional(),
    ...cameraCommon,
  })
  .strict();

/**
 * A recording (a video file, or a folder of images) decoded once into memory
 * and replayed at a fixed rate, looping: the camera then costs next to
 * nothing, so what a benchmark measures is the daemon. Also for trying a
 * model on footage of the line.
 */
const replayCamera = z
  .object({
    type: z.literal("replay"),
    path: z.string().min(1),
    fps: z.number().min(0.1).max(1000),
    loop: z.boolean().default(true),
    /** The decoded frames may take this much memory; a longer recording is refused at open, not cut. */
    max_mb: z.number().int().min(1).max(16_384).default(512),
    truth: z.string().min(1).optional(),
    ...cameraCommon,
  })
  .strict();

export const camera = z.discriminatedUnion("type", [syntheticCamera, v4l2Camera, gstreamerCamera, urlCamera, fileCamera, folderCamera, replayCamera]);

