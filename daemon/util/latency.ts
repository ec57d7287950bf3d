import { createHistogram, type RecordableHistogram } from "node:perf_hooks";

export interface LatencySummary {
  count: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

/**
 * Latency distribution in bounded memory (an HDR histogram from perf_hooks),
 * recorded in microseconds and reported in milliseconds.
 */
export class Latency {
  private readonly h: RecordableHistogram = createHistogram();

  record(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) return;
    this.h.record(Math.max(1, Math.round(ms * 1000)));
  }

  summary(): LatencySummary {
    const count = this.h.count;
    const at = (p: number) => (count === 0 ? 0 : round3(this.h.percentile(p) / 1000));
    return { count, p50: at(50), p95: at(95), p99: at(99), max: count === 0 ? 0 : round3(this.h.max / 1000) };
  }
}

function round3(v: number): number {
  return Math.round(v * 1000) / 1000;
}
