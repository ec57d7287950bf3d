import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type { Summary } from "../pipeline/run-stats.js";
import type { Station, StationHealth } from "./station.js";
import { MAIN_VIEW } from "../config/schema.js";

const STAGES = ["capture", "preprocess", "infer", "decide", "total"] as const;

interface LineReading {
  name: string;
  summary: Summary;
  health: StationHealth;
}

/** The station's health (its store, its state) and each line's books. */
interface Reading {
  health: StationHealth;
  lines: LineReading[];
}
const LATENCY_BUCKETS_S = [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5];

/**
 * The station's Prometheus metrics. Counts are read from the run's books at
 * scrape time (the same numbers as the run summary), each line's labelled
 * `line` with its name; stage latencies are observed per settled part.
 */
export class StationMetrics {
  readonly registry = new Registry();
  private current: Reading | undefined;

  constructor(private readonly station: Station) {
    const r = this.registry;
    collectDefaultMetrics({ register: r, prefix: "edge_inspect_process_" });
    const h = () => this.reading().health;
    const books = <T extends string>(name: string, help: string, labelNames: T[], read: (set: (labels: Record<T, string>, v: number) => void) => void) =>
      new Counter({
        name,
        help,
        labelNames,
        registers: [r],
        collect() {
          this.reset();
          read((labels, v) => this.inc(labels as never, v));
        },
      });
    const gauge = (name: string, help: string, read: () => number) =>
      new Gauge({
        name,
        help,
        registers: [r],
        collect() {
          this.set(read());
        },
      });

    // Per line, labelled with its name: the station's books are the sum of its lines'.
    const perLine = <T extends string>(name: string, help: string, labelNames: T[], read: (l: LineReading, set: (labels: Record<T, string>, v: number) => void) => void) =>
      books<T | "line">(name, help, ["line", ...labelNames], (set) => {
        for (const l of this.reading().lines) read(l, (labels, v) => set({ ...labels, line: l.name }, v));
      });
    const perLineGauge = <T extends string>(name: string, help: string, labelNames: T[], read: (l: LineReading, set: (labels: Record<T, string>, v: number) => void) => void) =>
      new Gauge({
        name,
        help,
        labelNames: ["line", ...labelNames],
        registers: [r],
        collect: () => {
          const g = r.getSingleMetric(name) as Gauge<T | "line">;
          g.reset();
          for (const l of this.reading().lines) read(l, (labels, v) => g.set({ ...labels, line: l.name } as Record<T | "line", string>, v));
        },
      });
    const lineGauge = (name: string, help: string, read: (l: LineReading) => number) => perLineGauge(name, help, [], (l, set) => set({}, read(l)));

    gauge("edge_inspect_up", "1 while the station is running", () => (h().state === "running" ? 1 : 0));
    perLine("edge_inspect_parts_triggered_total", "Parts created by a trigger or a free-run frame", [], (l, set) => set({}, l.summary.triggered));
    perLine("edge_inspect_parts_total", "Settled parts by outcome", ["outcome"], (l, set) => {
      set({ outcome: "accepted" }, l.summary.accepted);
      set({ outcome: "rejected" }, l.summary.rejected);
    });
    perLine("edge_inspect_rejects_total", "Rejected parts by reason (defect class or failsafe:<reason>)", ["reason"], (l, set) => {
      for (const [reason, n] of Object.entries(l.summary.rejected_by_reason)) set({ reason }, n);
    });
    perLine("edge_inspect_failsafe_total", "Parts given the fail-safe action, by reason", ["reason"], (l, set) => {
      for (const [reason, n] of Object.entries(l.summary.failsafe_by_reason)) set({ reason }, n);
    });
    perLine("edge_inspect_escaped_total", "Defective parts accepted, against the line's ground truth (where it has one)", [], (l, set) => set({}, l.summary.truth?.escaped ?? 0));
    perLine("edge_inspect_false_rejects_total", "Good parts rejected, against the line's ground truth (where it has one)", [], (l, set) => set({}, l.summary.truth?.false_rejects ?? 0));
    perLine("edge_inspect_late_verdicts_total", "Verdicts that came after their part had failed safe", [], (l, set) => set({}, l.summary.late_verdicts));
    perLine("edge_inspect_frames_dropped_total", "Free-run frames not taken because the line was saturated", [], (l, set) => set({}, l.summary.frames_dropped));
    // Per camera: a line's views (one, `main`, on a line with one camera).
    const cameras = (l: LineReading) => l.health.views ?? [{ name: MAIN_VIEW, camera: l.health.camera }];
    perLine("edge_inspect_camera_reconnects_total", "Camera reconnects", ["view"], (l, set) => {
      for (const v of cameras(l)) set({ view: v.name }, v.camera.reconnects);
    });
    perLine("edge_inspect_camera_stalls_total", "Camera stalls (no frame within stall_ms)", ["view"], (l, set) => {
      for (const v of cameras(l)) set({ view: v.name }, v.camera.stalls);
    });
    perLine("edge_inspect_camera_frames_total", "Frames the camera delivered", ["view"], (l, set) => {
      for (const v of cameras(l)) set({ view: v.name }, v.camera.frames);
    });
    books("edge_inspect_records_dropped_total", "Inspections the store gave up on", [], (set) => set({}, h().store.dropped));
    books("edge_inspect_outbox_dropped_total", "Outbox messages dropped over the backlog budget", [], (set) => set({}, h().store.outboxDropped));
    lineGauge("edge_inspect_parts_in_flight", "Parts between trigger and ejector", (l) => l.health.inFlight);
    lineGauge("edge_inspect_engine_queue_depth", "Frames waiting for the inference worker", (l) => l.health.engineQueue);
    gauge("edge_inspect_store_pending_writes", "Inspections not yet durable", () => h().store.pendingWrites);
    gauge("edge_inspect_outbox_backlog", "MQTT messages waiting for the broker's acknowledgement", () => h().store.outbox);
    perLineGauge("edge_inspect_camera_connected", "1 while the camera delivers", ["view"], (l, set) => {
      for (const v of cameras(l)) set({ view: v.name }, v.camera.connected ? 1 : 0);
    });
    gauge("edge_inspect_event_loop_lag_p99_seconds", "Event-loop lag p99 over the run", () => this.reading().lines[0]!.summary.event_loop_lag_ms.p99 / 1000);
    new Gauge({
      name: "edge_inspect_model_info",
      help: "The loaded model's version (value is always 1)",
      labelNames: ["line", "version"],
      registers: [r],
      collect: () => {
        const g = r.getSingleMetric("edge_inspect_model_info") as Gauge<"line" | "version">;
        g.reset();
        for (const l of this.reading().lines) g.set({ line: l.name, version: l.health.modelVersion }, 1);
      },
    });
    const latency = new Histogram({
      name: "edge_inspect_stage_latency_seconds",
      help: "Per-part latency of each stage (total: trigger to judgement)",
      labelNames: ["line", "stage"],
      buckets: LATENCY_BUCKETS_S,
      registers: [r],
    });
    station.addSettledListener((p) => {
      for (const stage of STAGES) {
        const v = p.stages[stage];
        if (v !== undefined) latency.observe({ line: p.line, stage }, v / 1000);
      }
    });
  }

  /** One reading of the books per scrape, shared by every metric in it. */
  async text(): Promise<string> {
    this.current = this.read();
    try {
      return await this.registry.metrics();
    } finally {
      this.current = undefined;
    }
  }

  private reading(): Reading {
    return this.current ?? this.read();
  }

  private read(): Reading {
    return { health: this.station.health(), lines: this.station.lines().map((l) => ({ name: l.name, summary: l.summary(), health: l.health() })) };
  }
}
