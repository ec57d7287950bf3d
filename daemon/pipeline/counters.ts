import { FAILSAFE_REASONS, type FailsafeReason } from "./part.js";

/** The books of the line. `inFlight` is owned by the tracker. */
export class Counters {
  triggered = 0;
  accepted = 0;
  rejected = 0;
  readonly rejectedByReason: Record<string, number> = {};
  readonly failsafeByReason: Record<FailsafeReason, number> = Object.fromEntries(
    FAILSAFE_REASONS.map((r) => [r, 0]),
  ) as Record<FailsafeReason, number>;
  /** Verdicts that arrived after their part had already failed safe. */
  lateVerdicts = 0;
  /** Parts that passed the ejector without the action they called for; included in `accepted` (see PartTracker). */
  escaped = 0;
  /** Free-run frames not taken because the line was saturated (never parts). */
  framesDropped = 0;
  invariantViolations = 0;

  failsafe(): number {
    return Object.values(this.failsafeByReason).reduce((a, b) => a + b, 0);
  }
}
