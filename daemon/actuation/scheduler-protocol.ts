import type { WorkerOutput } from "./gpio.js";

/**
 * Positions along the belt are in the tracking unit: process-clock ms for
 * time tracking, encoder counts for encoder tracking. Pulse widths and gaps
 * are always in ms.
 */
export interface StationPlan {
  name: string;
  output: WorkerOutput;
  pulseMs: number;
  minGapMs: number;
  /** Trigger point to this ejector, in the tracking unit. */
  travel: number;
}

export interface SchedulerInit {
  tracking: "time" | "encoder";
  stations: StationPlan[];
  /** How far past its ejector a part may be and still be hit, in the tracking unit. */
  window: number;
  /** Station that rejects a part nobody decided on by its ejector; -1 lets it pass (fail-safe action accept). */
  failsafeStation: number;
  /** Int32 [0] safe request, [1] safe acknowledged. */
  control: SharedArrayBuffer;
  /** Int32 [0] encoder count, for encoder tracking. */
  encoder?: SharedArrayBuffer;
  realtimePriority: number;
}

export type ToWorker =
  /** A part was triggered at `at` (tracking unit). */
  | { t: "arm"; id: number; at: number }
  /** Its action: a station index to reject there, -1 to let it pass. */
  | { t: "decide"; id: number; station: number }
  /** One test pulse at a station, as soon as its min gap allows; `id` numbers test requests, not parts. */
  | { t: "test"; id: number; station: number }
  | { t: "stop" };

export interface PulseResult {
  id: number;
  /** escaped: passed the ejector although it was to be rejected, or undecided with fail-safe accept. */
  outcome: "rejected" | "accepted" | "escaped";
  station: number;
  /** The worker acted on its own: no decision had reached it by the ejector. */
  auto: boolean;
  tOnMs?: number;
  tOffMs?: number;
  why?: string;
}

export interface TestPulse {
  tOnMs: number;
  tOffMs: number;
}

export type FromWorker =
  | { t: "ready" }
  | ({ t: "result" } & PulseResult)
  | ({ t: "tested"; id: number } & TestPulse)
  | { t: "test-refused"; id: number; why: string }
  | { t: "error"; message: string }
  | { t: "warning"; code: string; message: string };

export const CONTROL_SAFE = 0;
export const CONTROL_ACK = 1;
