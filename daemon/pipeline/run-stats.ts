import { monitorEventLoopDelay, type IntervalHistogram } from "node:perf_hooks";
import { Latency, type LatencySummary } from "../util/latency.js";
import type { SettledPart, StageTimes } from "./part.js";
import type { Counters } from "./counters.js";

const STAGES = ["capture", "preprocess", "infer", "decide"] as const;
/** The lag histogram's samples include its own timer interval, subtracted below. */
const LAG_RESOLUTION_MS = 2;

export interface Summary {
  triggered: number;
  accepted: number;
  rejected: number;
  rejected_by_reason: Record<string, number>;
  failsafe: number;
  failsafe_by_reason: Record<string, number>;
  in_flight: number;
  /** Part of `accepted`: went past the ejector without the action they called for. */
  escaped: number;
  invariant_ok: boolean;
  late_verdicts: number;
  frames_dropped: number;
  duration_s: number;
  parts_per_s: number;
  latency_ms: Record<(typeof STAGES)[number] | "end_to_end", LatencySummary>;
  event_loop_lag_ms: { p50: number; p99: number; max: number };
  /** Judgements against the synthetic line's ground truth, when it has one. */
  truth?: { parts: number; defective: number; caught: number; escaped: number; false_rejects: number };
}

/** Latencies, event-loop lag and ground-truth scores of one run. */
export class RunStats {
  private readonly stages = Object.fromEntries([...STAGES, "end_to_end"].map((s) => [s, new Latency()])) as Record<
    keyof Summary["latency_ms"],
    Latency
  >;
  private readonly lag: IntervalHistogram = monitorEventLoopDelay({ resolution: LAG_RESOLUTION_MS });
  private readonly started = Date.now();
  private truth = { parts: 0, defective: 0, caught: 0, escaped: 0, false_rejects: 0 };

  constructor() {
    this.lag.enable();
  }

  add(p: SettledPart): void {
    for (const s of STAGES) {
      const v = p.stages[s as keyof StageTimes];
      if (v !== undefined) this.stages[s].record(v);
    }
    if (p.stages.total !== undefined) this.stages.end_to_end.record(p.stages.total);
    if (p.truth) {
      const t = this.truth;
      t.parts++;
      const defective = p.truth.defect !== null;
      const rejected = p.outcome === "rejected";
      if (defective) t.defective++;
      if (defective && rejected) t.caught++;
      if (defective && !rejected) t.escaped++;
      if (!defective && rejected) t.false_rejects++;
    }
  }

  summary(c: Counters, inFlight: number, invariantOk: boolean): Summary {
    const duration = (Date.now() - this.started) / 1000;
    const lagMs = (ns: number) => Math.max(0, Math.round((ns / 1e6 - LAG_RESOLUTION_MS) * 100) / 100);
    const s: Summary = {
      triggered: c.triggered,
      accepted: c.accepted,
      rejected: c.rejected,
      rejected_by_reason: { ...c.rejectedByReason },
      failsafe: c.failsafe(),
      failsafe_by_reason: { ...c.failsafeByReason },
      in_flight: inFlight,
      escaped: c.escaped,
      invariant_ok: invariantOk,
      late_verdicts: c.lateVerdicts,
      frames_dropped: c.framesDropped,
      duration_s: Math.round(duration * 10) / 10,
      parts_per_s: duration > 0 ? Math.round(((c.accepted + c.rejected) / duration) * 10) / 10 : 0,
      latency_ms: Object.fromEntries(Object.entries(this.stages).map(([k, v]) => [k, v.summary()])) as Summary["latency_ms"],
      event_loop_lag_ms: {
        p50: lagMs(this.lag.percentile(50)),
        p99: lagMs(this.lag.percentile(99)),
        max: lagMs(this.lag.max),
      },
    };
    if (this.truth.parts > 0) s.truth = { ...this.truth };
    return s;
  }

  close(): void {
    this.lag.disable();
  }
}

export function formatSummary(s: Summary): string {
  const lines = [
    `parts triggered ${s.triggered}  accepted ${s.accepted}  rejected ${s.rejected}  in flight ${s.in_flight}  (${s.invariant_ok ? "books balance" : "INVARIANT BROKEN"})`,
    `rejected by reason: ${fmtCounts(s.rejected_by_reason)}`,
    `fail-safe ${s.failsafe}: ${fmtCounts(s.failsafe_by_reason)}   late verdicts ${s.late_verdicts}   frames dropped ${s.frames_dropped}`,
    `${s.duration_s} s, ${s.parts_per_s} parts/s   event-loop lag p50 ${s.event_loop_lag_ms.p50} ms  p99 ${s.event_loop_lag_ms.p99} ms  max ${s.event_loop_lag_ms.max} ms`,
    "latency ms      count      p50      p95      p99      max",
    ...Object.entries(s.latency_ms).map(
      ([k, v]) => `  ${k.padEnd(12)} ${String(v.count).padStart(7)} ${[v.p50, v.p95, v.p99, v.max].map((x) => x.toFixed(2).padStart(8)).join(" ")}`,
    ),
  ];
  if (s.truth) {
    const t = s.truth;
    lines.push(`against ground truth: ${t.defective} defective of ${t.parts}, caught ${t.caught}, escaped ${t.escaped}, false rejects ${t.false_rejects}`);
  }
  return lines.join("\n");
}

function fmtCounts(o: Record<string, number>): string {
  const e = Object.entries(o).filter(([, v]) => v > 0);
  return e.length === 0 ? "none" : e.map(([k, v]) => `${k} ${v}`).join(", ");
}
