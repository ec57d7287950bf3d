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
  /**
   * Free-run frames that reached the line after the part they show had passed the ejector (the event loop was
   * held up): such a part can be neither judged nor rejected, so it is not made one. Never parts.
   */
  framesStale = 0;
  invariantViolations = 0;

  failsafe(): number {
    return Object.values(this.failsafeByReason).reduce((a, b) => a + b, 0);
  }
}
