import type { OutboxMessage } from "../../records/store.js";
import { DataType, type DataSetValue, type DataTypeCode, type Metric } from "./codec.js";
import { deviceTopic, type EdgeNodeId } from "./topics.js";

/** One rejected part, as a one-row DataSet on its line's device: a host historises every reject. */
export const DEFECT_EVENT_METRIC = "Defects/Event";

const COLUMNS: Array<[string, DataTypeCode]> = [
  ["id", DataType.String],
  ["part", DataType.UInt64],
  ["reason", DataType.String],
  ["classes", DataType.String],
  ["scores", DataType.String],
  ["snapshot", DataType.String],
  ["model_version", DataType.String],
];

/** The columns, no rows: the metric's value in a birth certificate. */
export function emptyDefectEvent(): DataSetValue {
  return { columns: COLUMNS.map(([c]) => c), types: COLUMNS.map(([, t]) => t), rows: [] };
}

/**
 * The Sparkplug copy of a `defects` message, for the same outbox
 * transaction: its own entry (its own id and topic), so the node sends it
 * when its host is online whatever the JSON topics do.
 */
export function sparkplugDefectEntry(node: EdgeNodeId, device: string, defect: OutboxMessage): OutboxMessage {
  return { id: `spb:${defect.id}`, topic: deviceTopic(node, "DDATA", device), payload: defect.payload, qos: 0 };
}

interface DefectJson {
  id: string;
  part: number;
  time: string;
  reason: string;
  classes: string[];
  scores: number[];
  snapshot: string | null;
  model_version: string;
}

/**
 * The event metric for an outbox entry: timestamped with the part's trigger
 * time, and historical when the part was judged before the current birth
 * (held while the primary host was away, or from before a restart).
 */
export function defectEventMetric(entry: OutboxMessage, alias: number, bornAtMs: number): Metric {
  const d = JSON.parse(entry.payload) as DefectJson;
  const timestamp = Date.parse(d.time);
  const row = [d.id, d.part, d.reason, d.classes.join(","), d.scores.join(","), d.snapshot ?? "", d.model_version];
  return {
    alias,
    timestamp,
    datatype: DataType.DataSet,
    isHistorical: timestamp < bornAtMs,
    value: { ...emptyDefectEvent(), rows: [row] },
  };
}
