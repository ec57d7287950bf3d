import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type { Summary } from "../pipeline/run-stats.js";
import type { Station, StationHealth } from "./station.js";

const STAGES = ["capture", "preprocess", "infer", "decide", "total"] as const;
const LATENCY_BUCKETS_S = [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5];

/**
 * The station's Prometheus metrics. Counts are read from the run's books at
 * scrape time (the same numbers as the run summary); stage latencies are
 * observed per settled part.
 */
export class StationMetrics {
  readonly registry = new Registry();
  private current: { summary: Summary; health: StationHealth } | undefined;

  constructor(private readonly station: Station) {
    const r = this.registry;
    collectDefaultMetrics({ register: r, prefix: "edge_inspect_process_" });
    const s = () => this.reading().summary;
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

    gauge("edge_inspect_up", "1 while the station is running", () => (h().state === "running" ? 1 : 0));
    books("edge_inspect_parts_triggered_total", "Parts created by a trigger or a free-run frame", [], (set) => set({}, s().triggered));
    books("edge_inspect_parts_total", "Settled parts by outcome", ["outcome"], (set) => {
      set({ outcome: "accepted" }, s().accepted);
      set({ outcome: "rejected" }, s().rejected);
    });
    books("edge_inspect_rejects_total", "Rejected parts by reason (defect class or failsafe:<reason>)", ["reason"], (set) => {
      for (const [reason, n] of Object.entries(s().rejected_by_reason)) set({ reason }, n);
    });
    books("edge_inspect_failsafe_total", "Parts given the fail-safe action, by reason", ["reason"], (set) => {
      for (const [reason, n] of Object.entries(s().failsafe_by_reason)) set({ reason }, n);
    });
    books("edge_inspect_escaped_total", "Defective parts accepted, against the line's ground truth (where it has one)", [], (set) =>
      set({}, s().truth?.escaped ?? 0),
    );
    books("edge_inspect_false_rejects_total", "Good parts rejected, against the line's ground truth (where it has one)", [], (set) =>
      set({}, s().truth?.false_rejects ?? 0),
    );
    books("edge_inspect_late_verdicts_total", "Verdicts that came after their part had failed safe", [], (set) => set({}, s().late_verdicts));
    books("edge_inspect_frames_dropped_total", "Free-run frames not taken because the line was saturated", [], (set) => set({}, s().frames_dropped));
    books("edge_inspect_camera_reconnects_total", "Camera reconnects", [], (set) => set({}, h().camera.reconnects));
    books("edge_inspect_camera_stalls_total", "Camera stalls (no frame within stall_ms)", [], (set) => set({}, h().camera.stalls));
    books("edge_inspect_records_dropped_total", "Inspections the store gave up on", [], (set) => set({}, h().store.dropped));
    books("edge_inspect_outbox_dropped_total", "Outbox messages dropped over the backlog budget", [], (set) => set({}, h().store.outboxDropped));
    gauge("edge_inspect_parts_in_flight", "Parts between trigger and ejector", () => h().inFlight);
    gauge("edge_inspect_engine_queue_depth", "Frames waiting for the inference worker", () => h().engineQueue);
    gauge("edge_inspect_store_pending_writes", "Inspections not yet durable", () => h().store.pendingWrites);
    gauge("edge_inspect_outbox_backlog", "MQTT messages waiting for the broker's acknowledgement", () => h().store.outbox);
    gauge("edge_inspect_camera_connected", "1 while the camera delivers", () => (h().camera.connected ? 1 : 0));
    gauge("edge_inspect_event_loop_lag_p99_seconds", "Event-loop lag p99 over the run", () => s().event_loop_lag_ms.p99 / 1000);
    new Gauge({
      name: "edge_inspect_model_info",
      help: "The loaded model's version (value is always 1)",
      labelNames: ["version"],
      registers: [r],
      collect() {
        this.reset();
        this.set({ version: h().modelVersion }, 1);
      },
    });
    const latency = new Histogram({
      name: "edge_inspect_stage_latency_seconds",
      help: "Per-part latency of each stage (total: trigger to judgement)",
      labelNames: ["stage"],
      buckets: LATENCY_BUCKETS_S,
      registers: [r],
    });
    station.addSettledListener((p) => {
      for (const stage of STAGES) {
        const v = p.stages[stage];
        if (v !== undefined) latency.observe({ stage }, v / 1000);
      }
    });
  }

  /** One reading of the books per scrape, shared by every metric in it. */
  async text(): Promise<string> {
    this.current = { summary: this.station.summary(), health: this.station.health() };
    try {
      return await this.registry.metrics();
    } finally {
      this.current = undefined;
    }
  }

  private reading(): { summary: Summary; health: StationHealth } {
    return this.current ?? { summary: this.station.summary(), health: this.station.health() };
  }
}
