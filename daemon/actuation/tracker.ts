import type { Logger } from "../util/log.js";
import { nowMs } from "../util/clock.js";
import type { TriggerEvent } from "../trigger/trigger.js";
import { Counters } from "../pipeline/counters.js";
import { outcomeReason, type FailsafeReason, type Judgement, type Part, type SettledPart } from "../pipeline/part.js";
import type { RejectActuator } from "./reject-actuator.js";

export interface TrackerSettings {
  travelMs: number;
  decisionMarginMs: number;
  failsafeAction: "reject" | "accept";
}

/**
 * Every part in flight, from its trigger until it has passed the ejector.
 * A part without a verdict at its decision deadline gets the fail-safe
 * action; a part is counted accepted or rejected only once its actuation is
 * done, so at every moment triggered = accepted + rejected + inFlight.
 */
export class PartTracker {
  readonly counters = new Counters();
  private readonly parts = new Map<number, { part: Part; timer: NodeJS.Timeout }>();
  private nextId = 1;
  private idleWaiters: Array<() => void> = [];

  constructor(
    private readonly settings: TrackerSettings,
    private readonly actuator: RejectActuator,
    private readonly modelVersion: () => string,
    private readonly onSettled: (p: SettledPart) => void,
    private readonly log: Logger,
  ) {}

  inFlight(): number {
    return this.parts.size;
  }

  create(ev: TriggerEvent): Part {
    const ejectAtMs = ev.tMs + this.settings.travelMs;
    const part: Part = {
      id: this.nextId++,
      tTriggerMs: ev.tMs,
      decideByMs: ejectAtMs - this.settings.decisionMarginMs,
      ejectAtMs,
      stages: {},
    };
    if (ev.encoder !== undefined) part.encoder = ev.encoder;
    this.counters.triggered++;
    const timer = setTimeout(() => this.deadline(part), Math.max(0, part.decideByMs - nowMs()));
    this.parts.set(part.id, { part, timer });
    return part;
  }

  /** A verdict for a part still in flight; ignored (and counted) once the fail-safe took it. */
  judge(part: Part, judgement: Judgement): void {
    if (part.judgement) {
      this.counters.lateVerdicts++;
      return;
    }
    if (nowMs() > part.decideByMs) {
      this.counters.lateVerdicts++;
      this.failSafe(part, "late", `verdict ${judgement.verdict} came ${(nowMs() - part.decideByMs).toFixed(1)} ms after the deadline`);
      return;
    }
    part.stages.total = nowMs() - part.tTriggerMs;
    this.commit(part, judgement);
  }

  failSafe(part: Part, reason: FailsafeReason, detail: string): void {
    if (part.judgement) return;
    this.commit(part, { verdict: "unknown", findings: [], failsafe: reason, detail });
  }

  /** Resolves when no part is in flight. */
  idle(): Promise<void> {
    if (this.parts.size === 0) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  /** Invariant check; a violation is logged and counted, never thrown on the hot path. */
  checkInvariant(): boolean {
    const c = this.counters;
    const ok = c.triggered === c.accepted + c.rejected + this.parts.size;
    if (!ok) {
      c.invariantViolations++;
      this.log.error({ triggered: c.triggered, accepted: c.accepted, rejected: c.rejected, inFlight: this.parts.size }, "invariant broken: triggered != accepted + rejected + in_flight");
    }
    return ok;
  }

  private deadline(part: Part): void {
    this.failSafe(part, "late", "no verdict by the decision deadline");
  }

  private commit(part: Part, judgement: Judgement): void {
    part.judgement = judgement;
    const entry = this.parts.get(part.id);
    if (entry) clearTimeout(entry.timer);
    if (judgement.verdict === "unknown") this.counters.failsafeByReason[judgement.failsafe ?? "error"]++;
    const reject = judgement.verdict === "reject" || (judgement.verdict === "unknown" && this.settings.failsafeAction === "reject");
    if (reject) {
      void this.actuator.pulse(part.ejectAtMs).then((tPulse) => this.settle(part, judgement, "rejected", tPulse));
    } else {
      const t = setTimeout(() => this.settle(part, judgement, "accepted"), Math.max(0, part.ejectAtMs - nowMs()));
      if (entry) entry.timer = t;
    }
  }

  private settle(part: Part, judgement: Judgement, outcome: "accepted" | "rejected", tPulseMs?: number): void {
    if (!this.parts.delete(part.id)) return;
    const c = this.counters;
    const reason = outcomeReason(judgement);
    if (outcome === "rejected") {
      c.rejected++;
      c.rejectedByReason[reason] = (c.rejectedByReason[reason] ?? 0) + 1;
    } else {
      c.accepted++;
    }
    this.checkInvariant();
    const settled: SettledPart = { ...part, judgement, outcome, reason, tSettledMs: nowMs(), modelVersion: this.modelVersion() };
    if (tPulseMs !== undefined) settled.tPulseMs = tPulseMs;
    try {
      this.onSettled(settled);
    } catch (err) {
      this.log.error({ err, part: part.id }, "recording a settled part failed");
    }
    if (this.parts.size === 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }
}
