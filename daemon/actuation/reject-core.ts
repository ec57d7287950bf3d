import { createRequire } from "node:module";
import { EdgeError, errorMessage } from "../util/errors.js";

/** One output as the native core drives it (native/reject-core/lines.c). */
export type CoreOutput =
  | { type: "simulated"; state: Int32Array; index: number; activeLow: boolean; safe: boolean }
  | { type: "sysfs"; valuePath: string; safe: boolean }
  | { type: "gpiod"; fd: number; safe: boolean };

export interface CoreOptions {
  tracking: "time" | "encoder";
  stations: Array<{ name: string; output: CoreOutput; pulseMs: number; minGapMs: number; travel: number }>;
  window: number;
  failsafeStation: number;
  encoder?: Int32Array;
  /** Parts and test pulses the core can hold at once. */
  capacity: number;
  /** SCHED_FIFO priority for its thread; 0 leaves it a normal thread. */
  priority: number;
  /** Longest the core spins before a deadline to absorb a slow wake-up (ms); 0: it only sleeps. */
  spinMaxMs: number;
}

export interface CoreResult {
  id: number;
  outcome: "rejected" | "accepted" | "escaped" | "tested" | "test-refused";
  station: number;
  auto: boolean;
  tOnMs?: number;
  tOffMs?: number;
  /** How long after its time the pulse went on (ms). */
  lateMs?: number;
  why?: string;
}

export interface CoreStats {
  /** SCHED_FIFO priority the thread runs at; 0: a normal thread. */
  priority: number;
  realtimeRefused: string;
  memoryLocked: boolean;
  memoryLockRefused: string;
  /** Pulses the core fired for parts, and how late each went on after its time (the pulse error, ms). */
  pulses: number;
  lateP50Ms: number;
  lateP99Ms: number;
  lateMaxMs: number;
  wakeups: number;
  /** Times a caller woke the core: a part whose time is after the one it sleeps to does not. */
  signals: number;
  /** How late the thread woke for the deadlines it slept to (ms): what cyclictest measures. */
  timedWakeups: number;
  wakeP50Ms: number;
  wakeP99Ms: number;
  wakeMaxMs: number;
  /** How far ahead of each deadline it wakes now (follows wakeP98, capped at spinMaxMs), and the CPU that cost (ms in all). */
  leadMs: number;
  spinMs: number;
  minorFaults: number;
  majorFaults: number;
  writeErrors: number;
}

export interface NativeCore {
  arm(id: number, at: number): void;
  decide(id: number, station: number): void;
  test(id: number, station: number): void;
  hold(): void;
  kick(): void;
  take(): CoreResult[];
  stats(): CoreStats;
  stop(): void;
}

interface Binding {
  RejectCore: new (options: CoreOptions, onResults: () => void) => NativeCore;
}

let binding: Binding | undefined;

/** The native reject core (native/reject-core), built by scripts/setup.sh. */
export function openRejectCore(options: CoreOptions, onResults: () => void): NativeCore {
  if (!binding) {
    const path = new URL("../../../build/reject-core/reject_core.node", import.meta.url).pathname;
    try {
      binding = createRequire(import.meta.url)(path) as Binding;
    } catch (err) {
      throw new EdgeError("E_REJECT_CORE", `the reject core is not built (${path}): run scripts/setup.sh (${errorMessage(err)})`, { cause: err });
    }
  }
  try {
    return new binding.RejectCore(options, onResults);
  } catch (err) {
    const code = (err as { code?: string }).code;
    throw new EdgeError(code === "E_GPIO_LINE" ? "E_GPIO_LINE" : "E_REJECT_CORE", `reject core: ${errorMessage(err)}`, { cause: err });
  }
}
