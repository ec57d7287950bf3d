import { Worker } from "node:worker_threads";
import { EdgeError } from "../util/errors.js";
import type { Logger } from "../util/log.js";
import { CONTROL_ACK, CONTROL_SAFE, type FromWorker, type PulseResult, type SchedulerInit, type StationPlan, type TestPulse, type ToWorker } from "./scheduler-protocol.js";

export interface SchedulerPlan {
  tracking: "time" | "encoder";
  stations: StationPlan[];
  window: number;
  failsafeStation: number;
  encoder?: SharedArrayBuffer;
  /** SCHED_FIFO priority for the reject thread; 0 leaves it a normal thread. */
  realtimePriority: number;
}

/**
 * The main thread's handle on the reject worker (reject-worker.ts): parts
 * are armed at their trigger position and decided later; the worker reports
 * what physically happened to each at its ejector.
 */
export class RejectScheduler {
  private worker: Worker | undefined;
  private readonly control = new Int32Array(new SharedArrayBuffer(8));
  private resultListener: (r: PulseResult) => void = () => undefined;
  private failureListener: (why: string) => void = () => undefined;
  private stopping = false;
  private testId = 0;
  private readonly tests = new Map<number, { resolve: (p: TestPulse) => void; reject: (err: Error) => void }>();

  constructor(
    readonly plan: SchedulerPlan,
    private readonly log: Logger,
  ) {}

  onResult(listener: (r: PulseResult) => void): void {
    this.resultListener = listener;
  }

  /** The worker died: no part in flight can be ejected any more. */
  onFailure(listener: (why: string) => void): void {
    this.failureListener = listener;
  }

  async start(): Promise<void> {
    const init: SchedulerInit = { ...this.plan, control: this.control.buffer as SharedArrayBuffer };
    const worker = new Worker(new URL("./reject-worker.js", import.meta.url), { workerData: init });
    this.worker = worker;
    await new Promise<void>((resolve, reject) => {
      worker.on("message", (m: FromWorker) => {
        if (m.t === "ready") resolve();
        else if (m.t === "warning") this.log.warn({ code: m.code }, m.message);
        else if (m.t === "error") reject(new EdgeError("E_GPIO_LINE", `reject scheduler: ${m.message}`));
        else if (m.t === "tested") this.settleTest(m.id, undefined, { tOnMs: m.tOnMs, tOffMs: m.tOffMs });
        else if (m.t === "test-refused") this.settleTest(m.id, new EdgeError("E_TEST_PULSE", `test pulse refused: ${m.why}`));
        else {
          const { t: _t, ...r } = m;
          this.resultListener(r);
        }
      });
      worker.on("error", (err) => {
        reject(err);
        this.log.error({ err }, "reject scheduler thread failed");
        this.failureListener(`reject scheduler thread failed: ${err.message}`);
      });
      worker.on("exit", (code) => {
        for (const id of [...this.tests.keys()]) this.settleTest(id, new EdgeError("E_TEST_PULSE", "test pulse refused: the reject scheduler stopped"));
        if (this.stopping) return;
        reject(new EdgeError("E_GPIO_LINE", `reject scheduler exited with code ${code}`));
        this.failureListener(`reject scheduler thread exited with code ${code}`);
      });
    });
  }

  arm(id: number, at: number): void {
    this.post({ t: "arm", id, at });
  }

  /** station: index to reject at, -1 to let the part pass. */
  decide(id: number, station: number): void {
    this.post({ t: "decide", id, station });
  }

  /**
   * One test pulse at a station: its configured width, after its min gap;
   * parts keep their own pulses and fail-safe action. Resolves once the
   * pulse has ended.
   */
  testPulse(station = 0): Promise<TestPulse> {
    if (!this.worker || this.stopping) return Promise.reject(new EdgeError("E_TEST_PULSE", "test pulse refused: the reject scheduler is not running"));
    const id = ++this.testId;
    return new Promise((resolve, reject) => {
      this.tests.set(id, { resolve, reject });
      this.post({ t: "test", id, station });
    });
  }

  /**
   * Every reject output to its safe level, and no more pulses; returns once
   * the worker confirmed (synchronous: for signal and crash handlers).
   */
  safeSync(timeoutMs = 200): boolean {
    if (!this.worker) return true;
    Atomics.store(this.control, CONTROL_SAFE, 1);
    Atomics.notify(this.control, CONTROL_SAFE);
    return Atomics.wait(this.control, CONTROL_ACK, 0, timeoutMs) !== "timed-out";
  }

  async stop(): Promise<void> {
    const w = this.worker;
    if (!w) return;
    this.stopping = true;
    const exited = new Promise<void>((r) => w.once("exit", () => r()));
    this.post({ t: "stop" });
    await exited;
    this.worker = undefined;
  }

  private settleTest(id: number, err: Error | undefined, pulse?: TestPulse): void {
    const t = this.tests.get(id);
    this.tests.delete(id);
    if (err) t?.reject(err);
    else t?.resolve(pulse!);
  }

  private post(m: ToWorker): void {
    this.worker?.postMessage(m);
  }
}
