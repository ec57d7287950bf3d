import { nowMs, sleep } from "../util/clock.js";
import { EdgeError, errorCode, errorMessage } from "../util/errors.js";
import { cv, type Mat } from "../vision/opencv.js";
import { Backoff } from "../util/backoff.js";
import { ThreadSide } from "../threads/thread-side.js";
import { CONTROL, type CaptureMessage, type CaptureThread, type CaptureWorkerData } from "./capture-protocol.js";
import { createSource } from "./create-source.js";
import { FramePoolWriter } from "./frame-pool.js";
import type { FrameSource, SourceFrame } from "./source.js";

/**
 * The capture thread: opens the source, reads it (blocking this thread only)
 * and hands each frame's pixels to the camera in a shared-memory slot. It lives as long as
 * the camera: a source that fails, ends unexpectedly or is reported silent is
 * closed and reopened here after an exponential backoff with jitter.
 */
const thread = new ThreadSide<CaptureThread>();
const { config, slots, control: controlBuffer } = thread.data as CaptureWorkerData;
const control = new Int32Array(controlBuffer);
const post = (m: CaptureMessage) => thread.emit(m);

// Stored files and the synthetic line would otherwise play as fast as they decode.
const paced = config.type === "synthetic" || config.type === "replay" || ((config.type === "file" || config.type === "folder") && config.pacing === "realtime");
// A live sensor keeps exposing whether or not anyone reads: a full queue drops.
// A stored source can wait for the pipeline instead, and loses nothing.
const waitWhenFull = (config.type === "file" || config.type === "folder") && config.pacing === "fast";
const r = config.reconnect;
const backoff = new Backoff({ initialMs: r.initial_ms, maxMs: r.max_ms, jitter: r.jitter });

let drops = 0;
let posted = 0;
let pool: FramePoolWriter | undefined;
let opened = false;

async function run(): Promise<void> {
  for (;;) {
    let source: FrameSource | undefined;
    try {
      source = createSource(config);
      const info = source.open();
      Atomics.store(control, CONTROL.reopen, 0);
      const fps = ("fps" in config && config.fps) || info.fps || 25;
      // Open means frames flow: announced with the first one, so that the line
      // starts taking parts only once there is a frame to judge them by.
      const ended = await pump(source, 1000 / fps, () => {
        if (opened) post({ type: "open", info });
        else thread.ready(info);
        opened = true;
      });
      if (ended === "stop") {
        source.close();
        return;
      }
      if (ended === "end") {
        source.close();
        post({ type: "end", drops });
        return;
      }
      throw new EdgeError("E_CAMERA_STALLED", "source went silent");
    } catch (err) {
      source?.close();
      // A source that never opened is the camera's start failure, not a loss to retry.
      if (!opened) return thread.startFailed(err);
      const retryInMs = backoff.next();
      if (stopping()) return;
      post({ type: "lost", code: errorCode(err), message: errorMessage(err), retryInMs, drops });
      await sleep(retryInMs);
      if (stopping()) return;
    }
  }
}

function stopping(): boolean {
  return Atomics.load(control, CONTROL.stop) !== 0;
}

/** Reads until the source ends ("end"), the camera asks for a reopen ("reopen") or stops ("stop"); throws when it fails. */
async function pump(source: FrameSource, period: number, onFirst: () => void): Promise<"end" | "reopen" | "stop"> {
  let next = nowMs();
  let delivered = false;
  while (Atomics.load(control, CONTROL.reopen) === 0) {
    if (stopping()) return "stop";
    if (paced) {
      const wait = next - nowMs();
      if (wait > 0) await sleep(wait);
      // Decoding slower than the frame rate: frames come late, the schedule restarts from now.
      else if (-wait > period) next = nowMs();
      next += period;
    }
    const frame = source.read();
    const tCaptureMs = nowMs();
    if (!delivered) {
      delivered = true;
      onFirst();
      if (frame) backoff.reset();
    }
    if (!frame) return "end";
    try {
      const slot = roomInQueue() ? freeSlot(frame.image) : -1;
      if (slot >= 0) send(frame, slot, tCaptureMs);
      else drops++;
    } finally {
      // Native pixels go now, not whenever this thread next collects garbage.
      frame.image.release();
    }
  }
  return "reopen";
}

function roomInQueue(): boolean {
  const full = () => posted - Atomics.load(control, CONTROL.consumed) >= config.queue;
  if (!full()) return true;
  if (!waitWhenFull) return false;
  while (full() && Atomics.load(control, CONTROL.reopen) === 0) {
    // Blocks this thread only, until the camera hands a frame on.
    Atomics.wait(control, CONTROL.consumed, Atomics.load(control, CONTROL.consumed), 100);
  }
  return !full();
}

/**
 * A pool slot to copy `image` into, or -1 when the line holds every slot (the
 * frame is dropped, or a stored source waits). A larger frame than the pool
 * was made for gets a new pool.
 */
function freeSlot(image: Mat): number {
  if (image.type !== cv.CV_8UC3) throw new EdgeError("E_CAMERA_FORMAT", `source gave a frame of OpenCV type ${image.type}, not 8-bit BGR`);
  const bytes = image.rows * image.cols * 3;
  if (!pool || pool.shared.slotBytes < bytes) {
    pool = new FramePoolWriter(slots, bytes);
    post({ type: "pool", pool: pool.shared });
  }
  let slot = pool.take();
  while (slot < 0 && waitWhenFull && Atomics.load(control, CONTROL.reopen) === 0) {
    pool.waitForRelease(100);
    slot = pool.take();
  }
  return slot;
}

function send(frame: SourceFrame, slot: number, tCaptureMs: number): void {
  const { image, truth } = frame;
  // A header over the slot: copyTo fills it in place (same size and type, so
  // OpenCV allocates nothing), packed row after row.
  const target = new cv.Mat(image.rows, image.cols, cv.CV_8UC3, pool!.view(slot));
  image.copyTo(target).release();
  target.release();
  const m: CaptureMessage = { type: "frame", tCaptureMs, width: image.cols, height: image.rows, slot, drops };
  if (truth) m.truth = truth;
  posted++;
  post(m);
}

void run();
