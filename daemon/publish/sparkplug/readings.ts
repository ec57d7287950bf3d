import type { DataTypeCode, MetricValue } from "./codec.js";

/** One metric as the station reads it now: its name and datatype never change within a birth. */
export interface Reading {
  name: string;
  datatype: DataTypeCode;
  value: MetricValue;
}

/** A Sparkplug device: one line of the station (and, once lines have them, each view), keyed by its name. */
export interface DeviceSource {
  id: string;
  readings(): Reading[];
}

/** What the edge node reports: its own metrics and its devices'. */
export interface NodeSource {
  readings(): Reading[];
  devices(): DeviceSource[];
}
