import { Worker } from "node:worker_threads";
import { Backoff } from "../util/backoff.js";
import { nowMs, sleep } from "../util/clock.js";
import type { ErrorCode } from "../util/error-codes.js";
import { EdgeError, errorMessage, stationCode } from "../util/errors.js";
import type { Logger } from "../util/log.js";
import type { CrashPolicy, ThreadDeclaration } from "./crash-policy.js";
import type { HostMessage, RequestName, ThreadMessage, ThreadSpec } from "./protocol.js";
import { registerThread, unregisterThread, type ThreadHealth, type ThreadState } from "./thread-health.js";

export interface ThreadHostOptions<S extends ThreadSpec> {
  /** Names the thread in errors, logs and health. */
  name: string;
  declaration: ThreadDeclaration;
  url: URL;
  workerData: unknown;
  startTimeoutMs: number;
  /**
   * A thread that has requests and gives no answer this long is stuck: it
   * counts as a crash. Measured from its last answer, not from each request's
   * sending: a request queued behind others waits for them on a thread that
   * is busy, not stuck.
   */
  hangMs?: number;
  /** How long a stopping thread gets to end by itself before it is terminated. */
  stopGraceMs?: number;
  /** The station code of a failed request, from the code the thread gave (default: its own when it is a station code). */
  replyCode?: (threadCode: string) => ErrorCode;
  onEvent?: (event: S["events"]) => void;
  /** The policy applied: the thread is down (and, for restart, coming back). */
  onDown?: (err: EdgeError) => void;
  /** A restarted thread is ready again. */
  onUp?: (info: S["ready"]) => void;
}

interface Pending {
  resolve: (value: unknown) => void;
  reject: (err: Error) => void;
  sentAtMs: number;
}

const DEFAULT_STOP_GRACE_MS = 2000;

/**
 * The main thread's side of one worker thread: spawn, ready handshake with a
 * start timeout, typed notes and correlated requests, the thread's declared
 * crash policy (logged when it applies, shown in health) and a stop that asks
 * first and terminates after a grace period.
 */
export class ThreadHost<S extends ThreadSpec> {
  private worker: Worker | undefined;
  private spawning: Worker | undefined;
  private state: ThreadState = "created";
  private readonly pendingRequests = new Map<number, Pending>();
  private nextId = 1;
  private restarts = 0;
  private lastError: ThreadHealth["lastError"];
  private hangTimer: NodeJS.Timeout | undefined;
  private lastAnswerMs = 0;
  private tid: number | undefined;

  constructor(
    private readonly o: ThreadHostOptions<S>,
    private readonly log: Logger,
  ) {}

  get policy(): CrashPolicy {
    return this.o.declaration.policy;
  }

  /** Resolves with the thread's ready info; rejects with its coded start failure (the thread is gone then). */
  async start(): Promise<S["ready"]> {
    this.state = "starting";
    registerThread(this);
    try {
      const info = await this.spawn();
      this.state = "running";
      if (this.o.hangMs) {
        this.hangTimer = setInterval(() => this.checkHang(), Math.max(10, Math.min(1000, this.o.hangMs / 4)));
        this.hangTimer.unref();
      }
      return info;
    } catch (err) {
      this.state = "stopped";
      unregisterThread(this);
      throw err;
    }
  }

  running(): boolean {
    return this.state === "running";
  }

  /** Requests asked and not yet answered. */
  pending(): number {
    return this.pendingRequests.size;
  }

  /** A message that expects no answer; false when the thread is not running (it is dropped). */
  note(body: S["notes"]): boolean {
    if (!this.worker || this.state !== "running") return false;
    this.worker.postMessage({ type: "note", body } satisfies HostMessage<S>);
    return true;
  }

  request<K extends RequestName<S>>(name: K, body: S["requests"][K]["in"]): Promise<S["requests"][K]["out"]> {
    const worker = this.worker;
    if (!worker || this.state !== "running") return Promise.reject(new EdgeError(this.o.declaration.downCode, `${this.o.name} thread is ${this.state}`));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pendingRequests.set(id, { resolve: resolve as (v: unknown) => void, reject, sentAtMs: nowMs() });
      worker.postMessage({ type: "request", id, name, body } satisfies HostMessage<S>);
    });
  }

  health(): ThreadHealth {
    const h: ThreadHealth = { name: this.o.name, state: this.state, policy: this.policy.on, restarts: this.restarts };
    if (this.lastError) h.lastError = this.lastError;
    if (this.worker && this.tid !== undefined) h.tid = this.tid;
    return h;
  }

  /** Asks the thread to end (its stop handler runs), terminates it after the grace period. */
  async stop(): Promise<void> {
    if (this.state === "created" || this.state === "stopped") return;
    this.state = "stopping";
    if (this.hangTimer) clearInterval(this.hangTimer);
    void this.spawning?.terminate();
    const w = this.worker;
    this.worker = undefined;
    this.failPending(`${this.o.name} thread stopped`);
    if (w) {
      let grace: NodeJS.Timeout | undefined;
      const exited = new Promise((r) => w.once("exit", r));
      w.postMessage({ type: "stop" } satisfies HostMessage<S>);
      // Cleared once the thread is gone: a pending grace timer would hold the process's exit for its length.
      await Promise.race([exited, new Promise((r) => (grace = setTimeout(r, this.o.stopGraceMs ?? DEFAULT_STOP_GRACE_MS)))]);
      clearTimeout(grace);
      await w.terminate();
    }
    this.state = "stopped";
    unregisterThread(this);
  }

  private spawn(): Promise<S["ready"]> {
    const { name, declaration: d } = this.o;
    return new Promise((resolve, reject) => {
      const worker = new Worker(this.o.url, { workerData: this.o.workerData });
      this.spawning = worker;
      let started = false;
      const fail = (err: EdgeError) => {
        if (started) return;
        started = true;
        clearTimeout(timer);
        this.spawning = undefined;
        void worker.terminate();
        reject(err);
      };
      const timer = setTimeout(() => fail(new EdgeError(d.timeoutCode, `${name} thread was not ready within ${this.o.startTimeoutMs} ms`)), this.o.startTimeoutMs);
      worker.on("message", (m: ThreadMessage<S>) => {
        if (!started) {
          if (m.type === "ready") {
            started = true;
            clearTimeout(timer);
            this.spawning = undefined;
            this.worker = worker;
            this.tid = m.tid;
            resolve(m.info);
          } else if (m.type === "start-failed") {
            fail(new EdgeError(m.code === "E_INTERNAL" ? d.startCode : stationCode(m, d.startCode), m.message));
          }
          return;
        }
        if (this.worker === worker) this.onMessage(m);
      });
      worker.on("error", (err) => {
        if (!started) fail(new EdgeError(d.startCode, `${name} thread failed at start: ${err.message}`, { cause: err }));
        else this.crashed(worker, `failed: ${err.message}`);
      });
      worker.on("exit", (code) => {
        if (!started) fail(new EdgeError(d.startCode, `${name} thread exited (code ${code}) before it was ready`));
        else this.crashed(worker, `exited with code ${code}`);
      });
    });
  }

  private onMessage(m: ThreadMessage<S>): void {
    switch (m.type) {
      case "event":
        this.o.onEvent?.(m.body);
        return;
      case "reply":
      case "reply-failed": {
        const p = this.pendingRequests.get(m.id);
        if (!p) return;
        this.pendingRequests.delete(m.id);
        this.lastAnswerMs = nowMs();
        if (m.type === "reply") p.resolve(m.value);
        else p.reject(new EdgeError(this.o.replyCode ? this.o.replyCode(m.code) : stationCode(m, "E_INTERNAL"), m.message));
        return;
      }
    }
  }

  private checkHang(): void {
    if (this.state !== "running" || !this.worker) return;
    // The oldest request waits longest; the thread owes it an answer since
    // it was sent or since the thread last answered, whichever is later.
    const oldest = this.pendingRequests.values().next().value;
    if (oldest && nowMs() - Math.max(oldest.sentAtMs, this.lastAnswerMs) > this.o.hangMs!) {
      const w = this.worker;
      this.crashed(w, `gave no answer for ${this.o.hangMs} ms`);
      void w.terminate();
    }
  }

  /** Applies the declared policy to a thread that died (or hung) while running. */
  private crashed(worker: Worker, why: string): void {
    if (this.worker !== worker || this.state !== "running") return;
    this.worker = undefined;
    const { name, declaration: d } = this.o;
    const err = new EdgeError(d.downCode, `${name} thread ${why}`);
    this.lastError = { code: err.code, message: err.message, timeMs: Date.now() };
    this.failPending(err.message);
    const p = this.policy;
    this.log.error({ thread: name, policy: p.on, code: err.code, restarts: this.restarts }, `${err.message}: ${p.means}`);
    this.o.onDown?.(err);
    if (p.on === "restart") void this.restart(worker, p);
    else this.state = "down";
  }

  private async restart(old: Worker, p: Extract<CrashPolicy, { on: "restart" }>): Promise<void> {
    this.state = "restarting";
    this.restarts++;
    await old.terminate();
    // Backs off so that a thread that dies at once does not spin the CPU.
    const backoff = new Backoff({ initialMs: p.initialMs, maxMs: p.maxMs, jitter: 0.2 });
    while (this.state === "restarting") {
      try {
        const info = await this.spawn();
        if (this.state !== "restarting") return;
        this.state = "running";
        this.log.info({ thread: this.o.name, restarts: this.restarts }, `${this.o.name} thread back`);
        this.o.onUp?.(info);
        return;
      } catch (err) {
        const retryMs = backoff.next();
        this.log.error({ thread: this.o.name, err: errorMessage(err), retryMs }, `${this.o.name} thread restart failed`);
        await sleep(retryMs);
      }
    }
  }

  private failPending(message: string): void {
    const code = this.o.declaration.downCode;
    for (const [id, p] of [...this.pendingRequests]) {
      this.pendingRequests.delete(id);
      p.reject(new EdgeError(code, message));
    }
  }
}
