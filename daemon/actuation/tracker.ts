import type { Logger } from "../util/log.js";
import { nowMs } from "../util/clock.js";
import type { TriggerEvent } from "../trigger/trigger.js";
import type { Encoder } from "../trigger/encoder.js";
import { Counters } from "../pipeline/counters.js";
import { outcomeReason, type FailsafeReason, type Judgement, type Part, type SettledPart, type ViewJudgement } from "../pipeline/part.js";
import type { RejectScheduler } from "./reject-scheduler.js";
import type { PulseResult } from "./reject-plan.js";
import type { Alarms } from "./alarms.js";

export interface TrackerSettings {
  /** Positions in ms (time) or encoder counts (encoder). */
  tracking: "time" | "encoder";
  /** Trigger to the nearest ejector, in the tracking unit. */
  travel: number;
  /** The verdict must be in this far before the nearest ejector, in the tracking unit. */
  decisionMargin: number;
  /** How far past its ejector a part can still be hit, in the tracking unit. */
  window: number;
  /** Trigger to ejector in ms: the time estimate of an encoder part's ejection while the belt speed is unknown. */
  travelMsEstimate: number;
  failsafeAction: "reject" | "accept";
  /** Which reject station (index) takes a rejected part. */
  stationFor(judgement: Judgement): number;
  /** The line its parts are on. */
  line: string;
  /** Part ids, unique on the station: one sequence for all its lines. */
  nextId(): number;
}

interface Entry {
  part: Part;
  timer?: NodeJS.Timeout;
  /** Encoder tracking: the count by which the verdict must be in. */
  decideByCount?: number;
}

/**
 * Every part in flight, from its trigger until the reject scheduler reports
 * what happened at its ejector. A part without a verdict at its decision
 * deadline gets the fail-safe action; the scheduler applies it itself when no
 * decision reached it by the ejector.
 *
 * The books: triggered = accepted + rejected + in_flight at every moment. A
 * part that went past the ejector without the action it called for (its
 * pulse could not fire in its window, or it was undecided under fail-safe
 * accept) is *escaped*: it is in `accepted`, because that is where it went,
 * and also counted in `escaped`, with an alarm.
 */
export class PartTracker {
  readonly counters = new Counters();
  private readonly parts = new Map<number, Entry>();
  private idleWaiters: Array<() => void> = [];
  private readonly pulseListeners: Array<(p: SettledPart, station: number) => void> = [];

  constructor(
    private readonly settings: TrackerSettings,
    private readonly scheduler: RejectScheduler,
    private readonly encoder: Encoder | undefined,
    private readonly modelVersion: () => string,
    private readonly onSettled: (p: SettledPart) => void,
    private readonly alarms: Alarms,
    private readonly log: Logger,
  ) {
    scheduler.onResult((r) => this.onResult(r));
    if (settings.tracking === "encoder") encoder?.onCount((n) => this.countDeadlines(n));
  }

  inFlight(): number {
    return this.parts.size;
  }

  /** Called with every part that got a reject pulse (for confirmation sensors). */
  onPulse(listener: (p: SettledPart, station: number) => void): void {
    this.pulseListeners.push(listener);
  }

  create(ev: TriggerEvent): Part {
    const s = this.settings;
    const entry: Entry = { part: { id: s.nextId(), line: s.line, tTriggerMs: ev.tMs, decideByMs: 0, ejectAtMs: 0, stages: {} } };
    const part = entry.part;
    this.counters.triggered++;
    if (s.tracking === "encoder") {
      const at = ev.encoder ?? this.encoder?.count() ?? 0;
      part.encoder = at;
      const speed = this.encoder?.countsPerMs() ?? 0;
      const travelMs = speed > 0 ? s.travel / speed : s.travelMsEstimate;
      part.ejectAtMs = ev.tMs + travelMs;
      part.decideByMs = part.ejectAtMs - (s.decisionMargin / s.travel) * travelMs;
      entry.decideByCount = at + s.travel - s.decisionMargin;
      this.parts.set(part.id, entry);
      this.scheduler.arm(part.id, at);
    } else {
      if (ev.encoder !== undefined) part.encoder = ev.encoder;
      part.ejectAtMs = ev.tMs + s.travel;
      part.decideByMs = part.ejectAtMs - s.decisionMargin;
      entry.timer = setTimeout(() => this.failSafe(part, "late", "no verdict by the decision deadline"), Math.max(0, part.decideByMs - nowMs()));
      this.parts.set(part.id, entry);
      this.scheduler.arm(part.id, ev.tMs);
    }
    return part;
  }

  /**
   * Whether a part triggered at `tMs` can still be hit at its ejector (time tracking; with an encoder a part's
   * position is counted from when it is created, so it always can).
   */
  reachable(tMs: number): boolean {
    const s = this.settings;
    return s.tracking === "encoder" || nowMs() <= tMs + s.travel + s.window;
  }

  /** A verdict for a part still in flight; ignored (and counted) once the fail-safe took it. */
  judge(part: Part, judgement: Judgement): void {
    if (part.judgement) {
      this.counters.lateVerdicts++;
      return;
    }
    const late = this.lateness(part);
    if (late !== undefined) {
      this.counters.lateVerdicts++;
      this.failSafe(part, "late", `verdict ${judgement.verdict} came ${late} after the deadline`);
      return;
    }
    part.stages.total = nowMs() - part.tTriggerMs;
    this.commit(part, judgement);
  }

  /** `views`: each view's verdict, when the part was seen by several cameras. */
  failSafe(part: Part, reason: FailsafeReason, detail: string, views?: ViewJudgement[]): void {
    if (part.judgement) return;
    this.commit(part, { verdict: "unknown", findings: [], failsafe: reason, detail, modelVersion: this.modelVersion(), ...(views && { views }) });
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

  private lateness(part: Part): string | undefined {
    const entry = this.parts.get(part.id);
    if (entry?.decideByCount !== undefined) {
      const n = this.encoder?.count() ?? 0;
      return n > entry.decideByCount ? `${n - entry.decideByCount} encoder counts` : undefined;
    }
    const t = nowMs();
    return t > part.decideByMs ? `${(t - part.decideByMs).toFixed(1)} ms` : undefined;
  }

  private countDeadlines(n: number): void {
    for (const e of this.parts.values()) {
      if (e.decideByCount === undefined || e.decideByCount >= n) break;
      if (!e.part.judgement) this.failSafe(e.part, "late", "no verdict by the decision deadline (encoder)");
    }
  }

  private commit(part: Part, judgement: Judgement): void {
    part.judgement = judgement;
    const entry = this.parts.get(part.id);
    if (entry?.timer) clearTimeout(entry.timer);
    if (judgement.verdict === "unknown") this.counters.failsafeByReason[judgement.failsafe ?? "error"]++;
    const reject = judgement.verdict === "reject" || (judgement.verdict === "unknown" && this.settings.failsafeAction === "reject");
    this.scheduler.decide(part.id, reject ? this.settings.stationFor(judgement) : -1);
  }

  private onResult(r: PulseResult): void {
    const entry = this.parts.get(r.id);
    if (!entry) return;
    const part = entry.part;
    if (!part.judgement) {
      // The scheduler acted alone: no decision, not even the fail-safe, reached it in time.
      part.judgement = { verdict: "unknown", findings: [], failsafe: "late", detail: "no decision reached the reject scheduler by the ejector", modelVersion: this.modelVersion() };
      this.counters.failsafeByReason.late++;
      if (entry.timer) clearTimeout(entry.timer);
    }
    if (r.outcome === "escaped") {
      this.counters.escaped++;
      this.alarms.raise("escaped", `part ${part.id} escaped: ${r.why ?? "not rejected in its window"}`, { part: part.id });
      this.settle(entry, "accepted", `escaped:${outcomeReason(part.judgement)}`);
      return;
    }
    const settled = this.settle(entry, r.outcome, outcomeReason(part.judgement), r.tOnMs);
    if (settled && r.outcome === "rejected") for (const l of this.pulseListeners) l(settled, r.station);
  }

  private settle(entry: Entry, outcome: "accepted" | "rejected", reason: string, tPulseMs?: number): SettledPart | undefined {
    const part = entry.part;
    if (!this.parts.delete(part.id)) return undefined;
    if (entry.timer) clearTimeout(entry.timer);
    const c = this.counters;
    if (outcome === "rejected") {
      c.rejected++;
      c.rejectedByReason[reason] = (c.rejectedByReason[reason] ?? 0) + 1;
    } else {
      c.accepted++;
    }
    this.checkInvariant();
    const settled: SettledPart = { ...part, judgement: part.judgement!, outcome, reason, tSettledMs: nowMs(), modelVersion: part.judgement!.modelVersion ?? this.modelVersion() };
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
    return settled;
  }
}
