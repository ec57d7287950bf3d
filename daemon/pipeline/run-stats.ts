import { monitorEventLoopDelay, type IntervalHistogram } from "node:perf_hooks";
import { Latency, type LatencySummary } from "../util/latency.js";
import type { SettledPart, StageTimes } from "./part.js";
import type { Counters } from "./counters.js";
import type { ThreadCpu } from "../threads/thread-cpu.js";

const STAGES = ["capture", "preprocess", "infer", "decide"] as const;
/**
 * The lag histogram's timer interval (its samples include it, subtracted
 * below). Each tick wakes the main thread (at 2 ms: 14 ms of its CPU a second
 * on an idle line here, more than everything else on it). Each sample is how
 * late the timer ran: the rest of whatever held the loop at a moment that has
 * nothing to do with it, so fewer samples estimate the same distribution;
 * 20 a second make 12,000 over ten minutes.
 */
const LAG_RESOLUTION_MS = 50;

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
  frames_stale: number;
  duration_s: number;
  parts_per_s: number;
  latency_ms: Record<(typeof STAGES)[number] | "end_to_end", LatencySummary>;
  event_loop_lag_ms: { p50: number; p99: number; max: number };
  /** Pulse start against the part's ejection time, absolute, for every pulsed reject. */
  pulse_error_ms: LatencySummary;
  /** CPU time of the whole process (every thread) over wall time: 100 is one core busy. */
  cpu_percent: number;
  /** Peak resident memory of the process, worker threads included. */
  peak_rss_mb: number;
  /** The process's CPU by thread over the run, taken before its threads stop. */
  threads?: ThreadCpu[];
  /** Judgements against the synthetic line's ground truth, when it has one. */
  truth?: TruthScores;
}

export interface TruthScores {
  parts: number;
  defective: number;
  caught: number;
  escaped: number;
  false_rejects: number;
  /** Part of `defective`: kinds no model was trained on (the line's novel defects). */
  novel_defective: number;
  /** Part of `escaped`: novel defective parts shipped as good. */
  novel_escaped: number;
}

/** Trigger-to-verdict latency, CPU and memory since the previous progress report. */
export interface ProgressWindow {
  end_to_end_ms: LatencySummary;
  cpu_percent: number;
  rss_mb: number;
}

/** Latencies, event-loop lag, pulse timing, CPU, memory and ground-truth scores of one run. */
export class RunStats {
  private readonly stages = Object.fromEntries([...STAGES, "end_to_end"].map((s) => [s, new Latency()])) as Record<
    keyof Summary["latency_ms"],
    Latency
  >;
  private readonly lag: IntervalHistogram = monitorEventLoopDelay({ resolution: LAG_RESOLUTION_MS });
  private readonly pulseError = new Latency();
  private window = { latency: new Latency(), startMs: Date.now(), cpu: process.cpuUsage() };
  private readonly started = Date.now();
  private readonly cpuAtStart = process.cpuUsage();
  private truth: TruthScores = { parts: 0, defective: 0, caught: 0, escaped: 0, false_rejects: 0, novel_defective: 0, novel_escaped: 0 };

  constructor() {
    this.lag.enable();
  }

  add(p: SettledPart): void {
    for (const s of STAGES) {
      const v = p.stages[s as keyof StageTimes];
      if (v !== undefined) this.stages[s].record(v);
    }
    if (p.stages.total !== undefined) {
      this.stages.end_to_end.record(p.stages.total);
      this.window.latency.record(p.stages.total);
    }
    if (p.outcome === "rejected" && p.tPulseMs !== undefined) this.pulseError.record(Math.abs(p.tPulseMs - p.ejectAtMs));
    if (p.truth) {
      const t = this.truth;
      t.parts++;
      const defective = p.truth.defect !== null;
      const rejected = p.outcome === "rejected";
      if (defective) t.defective++;
      if (defective && rejected) t.caught++;
      if (defective && !rejected) t.escaped++;
      if (!defective && rejected) t.false_rejects++;
      if (defective && p.truth.novel) {
        t.novel_defective++;
        if (!rejected) t.novel_escaped++;
      }
    }
  }

  /** Starts a new window: what a long run's progress line reports, so drift shows. */
  takeWindow(): ProgressWindow {
    const { latency, startMs, cpu } = this.window;
    const w = { end_to_end_ms: latency.summary(), cpu_percent: cpuPercent(cpu, startMs), rss_mb: mb(process.memoryUsage.rss()) };
    this.window = { latency: new Latency(), startMs: Date.now(), cpu: process.cpuUsage() };
    return w;
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
      frames_stale: c.framesStale,
      duration_s: Math.round(duration * 10) / 10,
      parts_per_s: duration > 0 ? Math.round(((c.accepted + c.rejected) / duration) * 10) / 10 : 0,
      latency_ms: Object.fromEntries(Object.entries(this.stages).map(([k, v]) => [k, v.summary()])) as Summary["latency_ms"],
      event_loop_lag_ms: {
        p50: lagMs(this.lag.percentile(50)),
        p99: lagMs(this.lag.percentile(99)),
        max: lagMs(this.lag.max),
      },
      pulse_error_ms: this.pulseError.summary(),
      cpu_percent: cpuPercent(this.cpuAtStart, this.started),
      // maxRSS is in KiB, for the whole process.
      peak_rss_mb: mb(process.resourceUsage().maxRSS * 1024),
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
    `fail-safe ${s.failsafe}: ${fmtCounts(s.failsafe_by_reason)}   late verdicts ${s.late_verdicts}   frames dropped ${s.frames_dropped} (stale ${s.frames_stale})`,
    `${s.duration_s} s, ${s.parts_per_s} parts/s   event-loop lag p50 ${s.event_loop_lag_ms.p50} ms  p99 ${s.event_loop_lag_ms.p99} ms  max ${s.event_loop_lag_ms.max} ms`,
    `CPU ${s.cpu_percent}% of one core   peak RSS ${s.peak_rss_mb} MB   pulse error p99 ${s.pulse_error_ms.p99} ms  max ${s.pulse_error_ms.max} ms (${s.pulse_error_ms.count} pulses)`,
    ...(s.threads ? [`CPU by thread (ms): ${s.threads.map((t) => `${t.thread}${t.threads > 1 ? ` (${t.threads})` : ""} ${t.cpu_ms}`).join(", ")}`] : []),
    "latency ms      count      p50      p95      p99      max",
    ...Object.entries(s.latency_ms).map(
      ([k, v]) => `  ${k.padEnd(12)} ${String(v.count).padStart(7)} ${[v.p50, v.p95, v.p99, v.max].map((x) => x.toFixed(2).padStart(8)).join(" ")}`,
    ),
  ];
  if (s.truth) {
    const t = s.truth;
    const novel = t.novel_defective > 0 ? ` (novel defects ${t.novel_defective}, of them shipped as ok ${t.novel_escaped})` : "";
    lines.push(`against ground truth: ${t.defective} defective of ${t.parts}, caught ${t.caught}, escaped ${t.escaped}${novel}, false rejects ${t.false_rejects}`);
  }
  return lines.join("\n");
}

function cpuPercent(since: NodeJS.CpuUsage, sinceMs: number): number {
  const wallMs = Date.now() - sinceMs;
  const cpu = process.cpuUsage(since);
  return wallMs > 0 ? Math.round((cpu.user + cpu.system) / 10 / wallMs) : 0;
}

function mb(bytes: number): number {
  return Math.round((bytes / 1048576) * 10) / 10;
}

function fmtCounts(o: Record<string, number>): string {
  const e = Object.entries(o).filter(([, v]) => v > 0);
  return e.length === 0 ? "none" : e.map(([k, v]) => `${k} ${v}`).join(", ");
}
