import { Worker } from "node:worker_threads";
import type { CameraConfig } from "../config/schema.js";
import { nowMs, sleep } from "../util/clock.js";
import { EdgeError, stationCode } from "../util/errors.js";
import type { Logger } from "../util/log.js";
import type { Camera, CameraFrame, CameraStats } from "./camera.js";
import { CONTROL, type CaptureMessage, type CaptureWorkerData } from "./capture-protocol.js";
import { FramePoolReader } from "./frame-pool.js";

/** How long a stopping capture thread gets to close its source before it is terminated. */
const STOP_GRACE_MS = 2000;

/**
 * Any configured source, read in a capture thread of its own so that neither
 * a blocking device read nor decoding touches the event loop. The thread
 * reopens a source that fails or ends unexpectedly, with backoff; this side
 * watches for silence (no frame for `stall_ms`) and asks for a reopen. While
 * the source is down `stats().connected` is false and no frames arrive, so
 * triggered parts fail safe with `no-frame`.
 *
 * Frames arrive in shared-memory slots (capture/frame-pool.ts): the pool
 * holds the camera's queue plus `heldFrames`, the most frames the line keeps
 * at once past the sink call; when the line holds them all, a live source drops.
 *
 * Counters: `frames` delivered, `drops` discarded because the pipeline had
 * not taken the previous ones, `reconnects` reopen attempts after a loss,
 * `stalls` losses by silence.
 */
export class WorkerCamera implements Camera {
  readonly kind: string;
  private worker: Worker | undefined;
  private control: Int32Array | undefined;
  private sink: ((f: CameraFrame) => void) | undefined;
  private pool: FramePoolReader | undefined;
  private connected = false;
  private seq = 0;
  private drops = 0;
  private lastFrameMs = 0;
  private readonly counters = { frames: 0, reconnects: 0, stalls: 0 };
  private stallTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly config: CameraConfig,
    private readonly log: Logger,
    private readonly heldFrames: number,
  ) {
    this.kind = config.type;
  }

  /** Resolves once the source is open; a source that cannot be opened at all rejects with its coded error. */
  start(sink: (frame: CameraFrame) => void): Promise<void> {
    this.sink = sink;
    // The capture thread's OpenCV reads these from the process environment (see vision/opencv.ts),
    // which only the main thread can set.
    process.env.OPENCV_LOG_LEVEL ??= "ERROR";
    process.env.OPENCV4NODEJS_DISABLE_EXTERNAL_MEM_TRACKING ??= "1";
    const controlBuffer = new SharedArrayBuffer(CONTROL.slots * Int32Array.BYTES_PER_ELEMENT);
    this.control = new Int32Array(controlBuffer);
    const data: CaptureWorkerData = { config: this.config, control: controlBuffer, slots: this.config.queue + this.heldFrames + 1 };
    const worker = new Worker(new URL("./capture-worker.js", import.meta.url), { workerData: data });
    this.worker = worker;
    const opened = new Promise<void>((resolve, reject) => {
      const openTimer = setTimeout(
        () => reject(new EdgeError("E_CAMERA_OPEN_TIMEOUT", `${this.kind} source did not open within ${this.config.open_timeout_ms} ms`)),
        this.config.open_timeout_ms,
      );
      let first = true;
      worker.on("message", (m: CaptureMessage) => {
        if (first && (m.type === "open" || m.type === "lost")) {
          first = false;
          clearTimeout(openTimer);
          if (m.type === "lost") return reject(new EdgeError(stationCode(m, "E_CAMERA_OPEN"), m.message));
          resolve();
        }
        this.onMessage(m);
      });
      worker.on("error", (err) => {
        clearTimeout(openTimer);
        reject(err);
        this.onThreadFailed(new EdgeError("E_CAMERA_THREAD", `capture thread failed: ${err.message}`, { cause: err }));
      });
    });
    this.stallTimer = setInterval(() => this.checkStall(), Math.max(10, Math.min(this.config.stall_ms / 4, 250)));
    this.stallTimer.unref();
    return opened.catch(async (err: unknown) => {
      await this.stop();
      throw err;
    });
  }

  async stop(): Promise<void> {
    this.connected = false;
    if (this.stallTimer) clearInterval(this.stallTimer);
    const w = this.worker;
    this.worker = undefined;
    if (w) {
      w.removeAllListeners("message");
      // Asked first, so that the thread closes its source: a terminated thread
      // runs no destructor, and a V4L2 device left streaming refuses the next opener.
      Atomics.store(this.control!, CONTROL.stop, 1);
      Atomics.notify(this.control!, CONTROL.consumed);
      await Promise.race([new Promise((r) => w.once("exit", r)), sleep(STOP_GRACE_MS)]);
      await w.terminate();
    }
  }

  stats(): CameraStats {
    return { ...this.counters, drops: this.drops, connected: this.connected };
  }

  private onMessage(m: CaptureMessage): void {
    if ("drops" in m) this.drops = m.drops;
    switch (m.type) {
      case "open":
        this.connected = true;
        this.lastFrameMs = nowMs();
        if (m.info.refused.length > 0) this.log.warn({ refused: m.info.refused }, `camera driver did not take: ${m.info.refused.join(", ")}`);
        this.log.info({ backend: m.info.backend, fps: m.info.fps, reconnects: this.counters.reconnects }, `camera open (${m.info.backend})`);
        break;
      case "pool":
        this.pool = new FramePoolReader(m.pool, (slot) =>
          this.log.warn({ slot }, "a frame was let go by the collector, not by its holder: its slot came back late"),
        );
        break;
      case "frame":
        this.onFrame(m);
        break;
      case "lost":
        this.connected = false;
        this.counters.reconnects++;
        this.log.warn({ code: m.code, retryInMs: m.retryInMs, reconnects: this.counters.reconnects }, `camera lost: ${m.message}; reopening in ${m.retryInMs} ms`);
        break;
      case "end":
        this.connected = false;
        this.log.info({ frames: this.counters.frames }, "camera source ended");
        break;
    }
  }

  private onFrame(m: Extract<CaptureMessage, { type: "frame" }>): void {
    this.lastFrameMs = nowMs();
    this.counters.frames++;
    const pool = this.pool!;
    const { slot } = m;
    const release = pool.retain(slot);
    const frame: CameraFrame = {
      seq: this.seq++,
      tCaptureMs: m.tCaptureMs,
      width: m.width,
      height: m.height,
      data: pool.pixels(slot, m.width * m.height * 3),
      retain: () => pool.retain(slot),
    };
    if (m.truth) frame.truth = m.truth;
    try {
      this.sink?.(frame);
    } finally {
      release();
      Atomics.add(this.control!, CONTROL.consumed, 1);
      Atomics.notify(this.control!, CONTROL.consumed);
    }
  }

  private checkStall(): void {
    if (!this.connected) return;
    const silent = nowMs() - this.lastFrameMs;
    if (silent <= this.config.stall_ms) return;
    // The thread may be stuck inside the read itself; it reopens once the read returns
    // (OpenCV gives up on a silent network stream after 30 s, on a V4L2 device after 10 s).
    this.connected = false;
    this.counters.stalls++;
    Atomics.store(this.control!, CONTROL.reopen, 1);
    Atomics.notify(this.control!, CONTROL.consumed);
    this.log.warn({ silentMs: Math.round(silent), stalls: this.counters.stalls }, `camera stalled: no frame for ${Math.round(silent)} ms; reopening`);
  }

  private onThreadFailed(err: EdgeError): void {
    this.connected = false;
    this.log.error({ code: err.code }, `${err.message}; the camera stays down, parts fail safe`);
  }
}
