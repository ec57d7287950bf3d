import { EdgeError, errorCode, errorMessage } from "../util/errors.js";
import type { Logger } from "../util/log.js";
import type { WorkerOutput } from "./gpio.js";
import { openRejectCore, type CoreOutput, type CoreStats, type NativeCore } from "./reject-core.js";
import type { PulseResult, StationPlan, TestPulse } from "./reject-plan.js";

export interface SchedulerPlan {
  tracking: "time" | "encoder";
  stations: StationPlan[];
  window: number;
  failsafeStation: number;
  encoder?: SharedArrayBuffer;
  /** SCHED_FIFO priority for the reject core's thread; 0 leaves it a normal thread. */
  realtimePriority: number;
  /** Longest the core wakes ahead of a deadline and spins (ms). */
  wakeLeadMaxMs: number;
  /** Parts in flight the core must be able to hold. */
  capacity: number;
}

function coreOutput(w: WorkerOutput): CoreOutput {
  switch (w.type) {
    case "simulated":
      return { type: "simulated", state: new Int32Array(w.buffer), index: w.index, activeLow: w.activeLow, safe: w.safe };
    case "sysfs":
      return { type: "sysfs", valuePath: w.valuePath, safe: w.safe };
    case "gpiod":
      return { type: "gpiod", fd: w.fd, safe: w.safe };
  }
}

/**
 * The main thread's handle on the reject core (native/reject-core): parts
 * are armed at their trigger position and decided later; the core fires
 * each pulse on time on its own thread, applies the fail-safe action at the
 * ejector to a part nobody decided on, and reports what physically happened.
 */
export class RejectScheduler {
  private core: NativeCore | undefined;
  private resultListener: (r: PulseResult) => void = () => undefined;
  private testId = 0;
  private readonly tests = new Map<number, { resolve: (p: TestPulse) => void; reject: (err: Error) => void }>();

  constructor(
    readonly plan: SchedulerPlan,
    private readonly log: Logger,
  ) {}

  onResult(listener: (r: PulseResult) => void): void {
    this.resultListener = listener;
  }

  async start(): Promise<void> {
    const p = this.plan;
    this.core = openRejectCore(
      {
        tracking: p.tracking,
        stations: p.stations.map((s) => ({ name: s.name, output: coreOutput(s.output), pulseMs: s.pulseMs, minGapMs: s.minGapMs, travel: s.travel })),
        window: p.window,
        failsafeStation: p.failsafeStation,
        ...(p.encoder ? { encoder: new Int32Array(p.encoder) } : {}),
        capacity: p.capacity,
        priority: p.realtimePriority,
        spinMaxMs: p.wakeLeadMaxMs,
      },
      () => this.drain(),
    );
    const s = this.core.stats();
    if (p.realtimePriority > 0 && s.priority === 0) {
      this.log.warn({ code: "E_RT_PRIORITY" }, `reject timing runs at normal priority: ${s.realtimeRefused}. On a busy machine pulses may be late and parts may escape; run as the systemd unit (systemd/install.sh) or give node CAP_SYS_NICE`);
    }
    if (!s.memoryLocked) this.log.warn({ code: "E_RT_MEMLOCK" }, `reject core memory not locked, a page fault may delay a pulse: ${s.memoryLockRefused}`);
  }

  arm(id: number, at: number): void {
    try {
      this.core?.arm(id, at);
    } catch (err) {
      // Only when more parts are in flight than the core holds (max_in_flight bounds them): the part cannot be ejected.
      this.resultListener({ id, outcome: "escaped", station: -1, auto: false, why: `${errorCode(err)}: ${errorMessage(err)}` });
    }
  }

  /** station: index to reject at, -1 to let the part pass. */
  decide(id: number, station: number): void {
    this.core?.decide(id, station);
  }

  /** Encoder tracking: the count moved, the core looks again. */
  kick(): void {
    this.core?.kick();
  }

  /**
   * One test pulse at a station: its configured width, after its min gap;
   * parts keep their own pulses and fail-safe action. Resolves once the
   * pulse has ended.
   */
  testPulse(station = 0): Promise<TestPulse> {
    const core = this.core;
    if (!core) return Promise.reject(new EdgeError("E_TEST_PULSE", "test pulse refused: the reject scheduler is not running"));
    const id = ++this.testId;
    return new Promise((resolve, reject) => {
      this.tests.set(id, { resolve, reject });
      try {
        core.test(id, station);
      } catch (err) {
        this.settleTest(id, new EdgeError("E_TEST_PULSE", `test pulse refused: ${errorMessage(err)}`));
      }
    });
  }

  /** Every reject output to its safe level, and no more pulses; synchronous, for signal and crash handlers. */
  safeSync(): boolean {
    this.core?.hold();
    return true;
  }

  stats(): CoreStats | undefined {
    return this.core?.stats();
  }

  async stop(): Promise<void> {
    const core = this.core;
    if (!core) return;
    core.hold();
    this.drain();
    core.stop();
    this.core = undefined;
    for (const id of [...this.tests.keys()]) this.settleTest(id, new EdgeError("E_TEST_PULSE", "test pulse refused: the reject scheduler stopped"));
  }

  private drain(): void {
    const core = this.core;
    if (!core) return;
    for (const r of core.take()) {
      if (r.outcome === "tested") this.settleTest(r.id, undefined, { tOnMs: r.tOnMs!, tOffMs: r.tOffMs! });
      else if (r.outcome === "test-refused") this.settleTest(r.id, new EdgeError("E_TEST_PULSE", `test pulse refused: ${r.why ?? "refused"}`));
      else {
        const { lateMs: _late, ...result } = r;
        this.resultListener({ ...result, outcome: r.outcome as PulseResult["outcome"] });
      }
    }
  }

  private settleTest(id: number, err: Error | undefined, pulse?: TestPulse): void {
    const t = this.tests.get(id);
    this.tests.delete(id);
    if (err) t?.reject(err);
    else t?.resolve(pulse!);
  }
}
