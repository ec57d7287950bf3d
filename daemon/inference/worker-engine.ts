import { type ErrorCode } from "../util/error-codes.js";
import { Worker } from "node:worker_threads";
import type { Frame } from "../capture/camera.js";
import type { Logger } from "../util/log.js";
import { EdgeError, stationCode } from "../util/errors.js";
import { nowMs } from "../util/clock.js";
import type { BackendResult, FromWorker, SlotFrame, ToWorker } from "./backend.js";
import type { Engine, EngineInfo, EngineResult } from "./engine.js";
import { checkOutput } from "./output-check.js";

export interface WorkerEngineOptions {
  /** URL of the backend module the worker imports. */
  module: string;
  /** Passed to the module's createBackend(). */
  options: unknown;
  /** Requests accepted before infer() refuses with E_ENGINE_OVERLOAD. */
  queue: number;
  /** A request unanswered this long means the worker is stuck: it is replaced. */
  hangTimeoutMs: number;
  loadTimeoutMs: number;
}

interface Pending {
  resolve: (r: BackendResult) => void;
  reject: (e: Error) => void;
  sentAt: number;
  /** The engine's own slot the frame was copied into, free again once the request ends. */
  slot: SharedArrayBuffer | undefined;
}

const WORKER_URL = new URL("./engine-worker.js", import.meta.url);

/**
 * Runs a backend in a worker thread, so a synchronous native inference call
 * (onnxruntime's run(), TF.js on wasm) never stalls the event loop. A worker
 * that crashes or hangs fails its pending requests and is replaced; the parts
 * concerned fail safe upstream.
 */
export class WorkerEngine implements Engine {
  private worker: Worker | undefined;
  private info: EngineInfo | undefined;
  private readonly inflight = new Map<number, Pending>();
  /** Shared input slots, for frames not already in shared memory, not in use by a request; at most `queue` exist. */
  private readonly freeSlots: SharedArrayBuffer[] = [];
  private nextId = 1;
  private hangTimer: NodeJS.Timeout | undefined;
  private closing = false;
  private restarting: Promise<void> | undefined;
  restarts = 0;

  constructor(
    private readonly opts: WorkerEngineOptions,
    private readonly log: Logger,
  ) {}

  async load(): Promise<EngineInfo> {
    this.info = await this.spawn();
    this.hangTimer = setInterval(() => this.checkHang(), Math.max(10, Math.min(1000, this.opts.hangTimeoutMs / 4)));
    this.hangTimer.unref();
    return this.info;
  }

  pending(): number {
    return this.inflight.size;
  }

  infer(frame: Frame): Promise<EngineResult> {
    const worker = this.worker;
    if (!worker || !this.info || this.restarting) {
      return Promise.reject(new EdgeError("E_ENGINE_FAILED", "engine is restarting"));
    }
    if (this.inflight.size >= this.opts.queue) {
      return Promise.reject(new EdgeError("E_ENGINE_OVERLOAD", `engine queue full (${this.opts.queue})`));
    }
    const id = this.nextId++;
    const { labels, version } = this.info;
    // A frame already in shared memory (the camera's pool) is read in place;
    // any other is copied into a slot of the engine's own.
    const inPlace = frame.data.buffer instanceof SharedArrayBuffer;
    const slot = inPlace ? undefined : this.takeSlot(frame.data.byteLength);
    if (slot) new Uint8Array(slot, 0, frame.data.byteLength).set(frame.data);
    return new Promise<EngineResult>((resolve, reject) => {
      this.inflight.set(id, {
        resolve: (r) => {
          try {
            resolve({ ...r, output: checkOutput(r.output, labels), modelVersion: version });
          } catch (err) {
            reject(err as Error);
          }
        },
        reject,
        sentAt: nowMs(),
        slot,
      });
      const msg: ToWorker = { type: "infer", id, frame: slotFrame(frame, slot) };
      worker.postMessage(msg);
    });
  }

  /** A free slot that holds `bytes`; a slot too small for a (reopened, larger) camera is replaced. */
  private takeSlot(bytes: number): SharedArrayBuffer {
    const slot = this.freeSlots.pop();
    return slot && slot.byteLength >= bytes ? slot : new SharedArrayBuffer(bytes);
  }

  /**
   * Ends a request. Its slot is free again: the worker that had it either
   * answered or was replaced (a replaced worker's late reads only feed an
   * answer nobody waits for).
   */
  private settle(id: number): Pending | undefined {
    const p = this.inflight.get(id);
    if (!p) return undefined;
    this.inflight.delete(id);
    if (p.slot) this.freeSlots.push(p.slot);
    return p;
  }

  async close(): Promise<void> {
    this.closing = true;
    if (this.hangTimer) clearInterval(this.hangTimer);
    const w = this.worker;
    this.worker = undefined;
    this.failAll("E_ENGINE_FAILED", "engine closed");
    if (!w) return;
    const exited = new Promise<void>((r) => w.once("exit", () => r()));
    w.postMessage({ type: "close" } satisfies ToWorker);
    const timer = setTimeout(() => void w.terminate(), 2000);
    await exited;
    clearTimeout(timer);
  }

  private spawn(): Promise<EngineInfo> {
    return new Promise<EngineInfo>((resolve, reject) => {
      const worker = new Worker(WORKER_URL, { workerData: { module: this.opts.module, options: this.opts.options } });
      let settled = false;
      const timer = setTimeout(() => {
        if (settled) return;
        settled = true;
        void worker.terminate();
        reject(new EdgeError("E_MODEL_LOAD", `model did not load within ${this.opts.loadTimeoutMs} ms`));
      }, this.opts.loadTimeoutMs);
      worker.on("message", (msg: FromWorker) => {
        switch (msg.type) {
          case "ready":
            if (settled) return;
            settled = true;
            clearTimeout(timer);
            this.worker = worker;
            resolve(msg.info);
            return;
          case "load-error":
            if (settled) return;
            settled = true;
            clearTimeout(timer);
            reject(new EdgeError(msg.code === "E_INTERNAL" ? "E_MODEL_LOAD" : stationCode(msg, "E_MODEL_LOAD"), msg.message));
            return;
          case "result":
          case "error": {
            const p = this.settle(msg.id);
            if (!p) return; // answered after its worker was declared hung
            if (msg.type === "result") p.resolve(msg.result);
            else p.reject(new EdgeError(msg.code === "E_INTERNAL" ? "E_ENGINE_FAILED" : stationCode(msg, "E_MODEL_RUN"), msg.message));
            return;
          }
        }
      });
      worker.on("error", (err) => {
        this.log.error({ err }, "engine worker error");
        if (!settled) {
          settled = true;
          clearTimeout(timer);
          reject(new EdgeError("E_MODEL_LOAD", `engine worker failed: ${err.message}`));
        }
      });
      worker.on("exit", (code) => {
        if (this.worker !== worker) return;
        this.worker = undefined;
        this.failAll("E_ENGINE_FAILED", `engine worker exited (code ${code})`);
        if (!this.closing) void this.restart(`worker exited with code ${code}`);
      });
    });
  }

  private checkHang(): void {
    if (this.restarting || this.closing) return;
    const now = nowMs();
    for (const p of this.inflight.values()) {
      if (now - p.sentAt > this.opts.hangTimeoutMs) {
        void this.restart(`no answer for ${this.opts.hangTimeoutMs} ms`);
        return;
      }
    }
  }

  private restart(why: string): Promise<void> {
    if (this.restarting) return this.restarting;
    this.restarts++;
    this.log.error({ why, restarts: this.restarts }, "engine worker replaced");
    const old = this.worker;
    this.worker = undefined;
    this.failAll("E_ENGINE_FAILED", `engine worker replaced: ${why}`);
    this.restarting = (async () => {
      if (old) await old.terminate();
      // Back off so a model that crashes at once does not spin the CPU.
      let delay = 100;
      while (!this.closing) {
        try {
          this.info = await this.spawn();
          this.log.info({ engine: this.info }, "engine worker back");
          return;
        } catch (err) {
          this.log.error({ err, retryMs: delay }, "engine worker restart failed");
          await new Promise((r) => setTimeout(r, delay));
          delay = Math.min(delay * 2, 10_000);
        }
      }
    })().finally(() => {
      this.restarting = undefined;
    });
    return this.restarting;
  }

  private failAll(code: ErrorCode, message: string): void {
    for (const id of [...this.inflight.keys()]) this.settle(id)!.reject(new EdgeError(code, message));
  }
}

function slotFrame(frame: Frame, own: SharedArrayBuffer | undefined): SlotFrame {
  const { data } = frame;
  const at = own ? { slot: own, offset: 0 } : { slot: data.buffer as SharedArrayBuffer, offset: data.byteOffset };
  const f: SlotFrame = { seq: frame.seq, width: frame.width, height: frame.height, ...at, bytes: data.byteLength };
  if (frame.truth) f.truth = frame.truth;
  return f;
}
