import type { CameraConfig } from "../config/schema.js";
import { THREADS } from "../threads/crash-policy.js";
import { ThreadHost } from "../threads/thread-host.js";
import { nowMs } from "../util/clock.js";
import type { Logger } from "../util/log.js";
import type { Camera, CameraFrame, CameraStats } from "./camera.js";
import { CONTROL, type CaptureMessage, type CaptureThread, type CaptureWorkerData } from "./capture-protocol.js";
import { FramePoolReader } from "./frame-pool.js";
import type { SourceInfo } from "./source.js";

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
  private thread: ThreadHost<CaptureThread> | undefined;
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
  async start(sink: (frame: CameraFrame) => void): Promise<void> {
    this.sink = sink;
    // The capture thread's OpenCV reads these from the process environment (see vision/opencv.ts),
    // which only the main thread can set.
    process.env.OPENCV_LOG_LEVEL ??= "ERROR";
    process.env.OPENCV4NODEJS_DISABLE_EXTERNAL_MEM_TRACKING ??= "1";
    const controlBuffer = new SharedArrayBuffer(CONTROL.slots * Int32Array.BYTES_PER_ELEMENT);
    this.control = new Int32Array(controlBuffer);
    const data: CaptureWorkerData = { config: this.config, control: controlBuffer, slots: this.config.queue + this.heldFrames + 1 };
    this.thread = new ThreadHost<CaptureThread>(
      {
        name: "capture",
        declaration: THREADS.capture,
        url: new URL("./capture-worker.js", import.meta.url),
        workerData: data,
        startTimeoutMs: this.config.open_timeout_ms,
        onEvent: (m) => this.onMessage(m),
        onDown: () => {
          this.connected = false;
        },
      },
      this.log,
    );
    this.stallTimer = setInterval(() => this.checkStall(), Math.max(10, Math.min(this.config.stall_ms / 4, 250)));
    this.stallTimer.unref();
    try {
      this.onOpen(await this.thread.start());
    } catch (err) {
      await this.stop();
      throw err;
    }
  }

  async stop(): Promise<void> {
    this.connected = false;
    if (this.stallTimer) clearInterval(this.stallTimer);
    const thread = this.thread;
    this.thread = undefined;
    if (!thread) return;
    // Asked first, so that the thread closes its source even in the middle of a
    // read loop: a terminated thread runs no destructor, and a V4L2 device left
    // streaming refuses the next opener.
    Atomics.store(this.control!, CONTROL.stop, 1);
    Atomics.notify(this.control!, CONTROL.consumed);
    await thread.stop();
  }

  stats(): CameraStats {
    return { ...this.counters, drops: this.drops, connected: this.connected };
  }

  private onMessage(m: CaptureMessage): void {
    if ("drops" in m) this.drops = m.drops;
    switch (m.type) {
      case "open":
        this.onOpen(m.info);
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

  private onOpen(info: SourceInfo): void {
    this.connected = true;
    this.lastFrameMs = nowMs();
    if (info.refused.length > 0) this.log.warn({ refused: info.refused }, `camera driver did not take: ${info.refused.join(", ")}`);
    this.log.info({ backend: info.backend, fps: info.fps, reconnects: this.counters.reconnects }, `camera open (${info.backend})`);
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
}
