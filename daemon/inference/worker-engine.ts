import type { Frame } from "../capture/camera.js";
import { THREADS } from "../threads/crash-policy.js";
import { ThreadHost } from "../threads/thread-host.js";
import type { Logger } from "../util/log.js";
import { EdgeError, stationCode } from "../util/errors.js";
import type { EngineThread, SlotFrame } from "./backend.js";
import type { Engine, EngineInfo, EngineResult } from "./engine.js";
import { checkOutput } from "./output-check.js";

export interface WorkerEngineOptions {
  /** URL of the backend module the worker imports. */
  module: string;
  /** Passed to the module's createBackend(). */
  options: unknown;
  /** Requests accepted before infer() refuses with E_ENGINE_OVERLOAD. */
  queue: number;
  /** No answer this long while requests wait means the worker is stuck: it is replaced. */
  hangTimeoutMs: number;
  loadTimeoutMs: number;
}

const WORKER_URL = new URL("./engine-worker.js", import.meta.url);

/**
 * Runs a backend in a worker thread, so a synchronous native inference call
 * (onnxruntime's run(), TF.js on wasm) never stalls the event loop. A worker
 * that crashes or hangs is replaced (its declared policy, threads/crash-policy.ts):
 * its pending requests fail and the parts concerned fail safe upstream.
 */
export class WorkerEngine implements Engine {
  private readonly thread: ThreadHost<EngineThread>;
  private info: EngineInfo | undefined;
  /** Shared input slots, for frames not already in shared memory, not in use by a request; at most `queue` exist. */
  private readonly freeSlots: SharedArrayBuffer[] = [];

  constructor(
    private readonly opts: WorkerEngineOptions,
    log: Logger,
  ) {
    this.thread = new ThreadHost<EngineThread>(
      {
        name: "engine",
        declaration: THREADS.engine,
        url: WORKER_URL,
        workerData: { module: opts.module, options: opts.options },
        startTimeoutMs: opts.loadTimeoutMs,
        hangMs: opts.hangTimeoutMs,
        // A backend's failure with no code of its own is the engine's; a runtime's own code is a failed run.
        replyCode: (code) => (code === "E_INTERNAL" ? "E_ENGINE_FAILED" : stationCode({ code }, "E_MODEL_RUN")),
        onUp: (info) => {
          this.info = info;
        },
      },
      log,
    );
  }

  async load(): Promise<EngineInfo> {
    this.info = await this.thread.start();
    return this.info;
  }

  pending(): number {
    return this.thread.pending();
  }

  async infer(frame: Frame): Promise<EngineResult> {
    if (!this.info || !this.thread.running()) throw new EdgeError("E_ENGINE_FAILED", "engine is restarting");
    if (this.thread.pending() >= this.opts.queue) throw new EdgeError("E_ENGINE_OVERLOAD", `engine queue full (${this.opts.queue})`);
    const { labels, version } = this.info;
    // A frame already in shared memory (the camera's pool) is read in place;
    // any other is copied into a slot of the engine's own.
    const inPlace = frame.data.buffer instanceof SharedArrayBuffer;
    const slot = inPlace ? undefined : this.takeSlot(frame.data.byteLength);
    if (slot) new Uint8Array(slot, 0, frame.data.byteLength).set(frame.data);
    try {
      const r = await this.thread.request("infer", slotFrame(frame, slot));
      return { ...r, output: checkOutput(r.output, labels), modelVersion: version };
    } finally {
      // Free again: the worker that had it either answered or was replaced
      // (a replaced worker's late reads only feed an answer nobody waits for).
      if (slot) this.freeSlots.push(slot);
    }
  }

  /** A free slot that holds `bytes`; a slot too small for a (reopened, larger) camera is replaced. */
  private takeSlot(bytes: number): SharedArrayBuffer {
    const slot = this.freeSlots.pop();
    return slot && slot.byteLength >= bytes ? slot : new SharedArrayBuffer(bytes);
  }

  async close(): Promise<void> {
    await this.thread.stop();
  }
}

function slotFrame(frame: Frame, own: SharedArrayBuffer | undefined): SlotFrame {
  const { data } = frame;
  const at = own ? { slot: own, offset: 0 } : { slot: data.buffer as SharedArrayBuffer, offset: data.byteOffset };
  const f: SlotFrame = { seq: frame.seq, width: frame.width, height: frame.height, ...at, bytes: data.byteLength };
  if (frame.truth) f.truth = frame.truth;
  return f;
}
