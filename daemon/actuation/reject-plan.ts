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

export interface PulseResult {
  id: number;
  /** escaped: passed the ejector although it was to be rejected, or undecided with fail-safe accept. */
  outcome: "rejected" | "accepted" | "escaped";
  station: number;
  /** The core acted on its own: no decision had reached it by the ejector. */
  auto: boolean;
  tOnMs?: number;
  tOffMs?: number;
  why?: string;
}

export interface TestPulse {
  tOnMs: number;
  tOffMs: number;
}
