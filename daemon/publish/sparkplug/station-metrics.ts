import type { EngineInfo } from "../../inference/engine.js";
import type { StationHealth } from "../../http/station.js";
import type { Summary } from "../../pipeline/run-stats.js";
import { FAILSAFE_REASONS } from "../../pipeline/part.js";
import type { CommandStats } from "../commands.js";
import { DataType } from "./codec.js";
import { DEFECT_EVENT_METRIC, emptyDefectEvent } from "./defect-event.js";
import type { DeviceSource, NodeSource, Reading } from "./readings.js";

/** One line of the station as its Sparkplug device reads it. */
export interface SparkplugLine {
  name: string;
  summary(): Summary;
  health(): StationHealth;
  model(): EngineInfo | undefined;
  defectClasses(): string[];
  thresholds(): { threshold: number; thresholds: Record<string, number> };
}

/** What the station offers its Sparkplug node; App supplies it. */
export interface SparkplugStation {
  health(): StationHealth;
  /** Every line, the first one first: a device each. */
  lines(): SparkplugLine[];
  commandStats(): CommandStats;
  /** Codes of the alarms raised and not cleared (the station's, on every line's device). */
  activeAlarms(): string[];
}

const u64 = (name: string, value: number): Reading => ({ name, datatype: DataType.UInt64, value });
const u32 = (name: string, value: number): Reading => ({ name, datatype: DataType.UInt32, value });
const dbl = (name: string, value: number | null): Reading => ({ name, datatype: DataType.Double, value: value === null || Number.isFinite(value) ? value : null });
const str = (name: string, value: string): Reading => ({ name, datatype: DataType.String, value });
const bool = (name: string, value: boolean): Reading => ({ name, datatype: DataType.Boolean, value });

/** Metric names of the line device a host may write (DCMD). */
export const PAUSED_METRIC = "Control/Paused";
export const THRESHOLD_PREFIX = "Thresholds/";
export const DEFAULT_THRESHOLD_METRIC = `${THRESHOLD_PREFIX}Default`;
/** Who a DCMD comes from, for hosts that cannot set an MQTT 5 user property. */
export const FROM_METRIC = "Command/From";

/**
 * The station as a Sparkplug edge node: store and command books on the node,
 * one device per line, keyed by its name (a station's lines are fixed for
 * its run: the devices are made once). Rates are taken between two readings
 * of the same device.
 */
export function stationSource(station: SparkplugStation): NodeSource {
  const devices = station.lines().map((l) => lineDevice(l, () => station.activeAlarms()));
  return {
    readings: () => {
      const h = station.health();
      const c = station.commandStats();
      return [
        str("Node Info/State", h.state),
        u64("Store/Recorded", h.store.recorded),
        u32("Store/Pending Writes", h.store.pendingWrites),
        u32("Store/Outbox", h.store.outbox),
        u64("Store/Write Errors", h.store.writeErrors),
        u64("Store/Dropped", h.store.dropped),
        u64("Store/Outbox Dropped", h.store.outboxDropped),
        u64("Commands/Accepted", c.accepted),
        u64("Commands/Refused", c.refused),
      ];
    },
    devices: () => devices,
  };
}

function lineDevice(line: SparkplugLine, activeAlarms: () => string[]): DeviceSource {
  let last: { atMs: number; triggered: number; rejected: number } | undefined;
  return {
    id: line.name,
    readings: () => {
      const s = line.summary();
      const h = line.health();
      const model = line.model();
      const classes = line.defectClasses();
      const t = line.thresholds();
      const alarms = activeAlarms();
      const now = Date.now();
      const dt = last ? (now - last.atMs) / 1000 : 0;
      const rate = (n: number, was: number | undefined) => (dt > 0 && was !== undefined ? (n - was) / dt : 0);
      const rates = { parts: rate(s.triggered, last?.triggered), rejects: rate(s.rejected, last?.rejected) };
      last = { atMs: now, triggered: s.triggered, rejected: s.rejected };
      const settled = s.accepted + s.rejected;
      const e2e = s.latency_ms.end_to_end;
      return [
        u64("Parts/Triggered", s.triggered),
        u64("Parts/Accepted", s.accepted),
        u64("Parts/Rejected", s.rejected),
        ...classes.map((cls) => u64(`Parts/Rejected/${cls}`, s.rejected_by_reason[cls] ?? 0)),
        u64("Parts/Fail-safe", s.failsafe),
        ...FAILSAFE_REASONS.map((r) => u64(`Parts/Fail-safe/${r}`, s.failsafe_by_reason[r] ?? 0)),
        u64("Parts/Escaped", s.escaped),
        u32("Parts/In Flight", h.inFlight),
        dbl("Rates/Parts per Second", rates.parts),
        dbl("Rates/Rejects per Second", rates.rejects),
        dbl("Quality/Yield", settled > 0 ? s.accepted / settled : null),
        dbl("Latency/p50 ms", e2e.count > 0 ? e2e.p50 : null),
        dbl("Latency/p95 ms", e2e.count > 0 ? e2e.p95 : null),
        dbl("Latency/p99 ms", e2e.count > 0 ? e2e.p99 : null),
        dbl("Latency/Max ms", e2e.count > 0 ? e2e.max : null),
        str("Model/Name", model?.name ?? ""),
        str("Model/Version", model?.version ?? h.modelVersion),
        dbl(DEFAULT_THRESHOLD_METRIC, t.threshold),
        ...classes.map((cls) => dbl(`${THRESHOLD_PREFIX}${cls}`, t.thresholds[cls] ?? t.threshold)),
        bool(PAUSED_METRIC, h.paused),
        bool("Camera/Connected", h.camera.connected),
        u64("Camera/Frames", h.camera.frames),
        u64("Camera/Drops", h.camera.drops),
        u64("Camera/Reconnects", h.camera.reconnects),
        u64("Camera/Stalls", h.camera.stalls),
        u32("Alarms/Active Count", alarms.length),
        str("Alarms/Active", alarms.join(",")),
        { name: DEFECT_EVENT_METRIC, datatype: DataType.DataSet, value: emptyDefectEvent() },
      ];
    },
  };
}
