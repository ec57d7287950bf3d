import { fileURLToPath } from "node:url";
import protobuf from "protobufjs";
import { EdgeError } from "../../util/errors.js";

/** Eclipse Tahu's schema, the one the Sparkplug B specification defines (vendored beside this file). */
export const SPARKPLUG_PROTO = fileURLToPath(new URL("../../../../daemon/publish/sparkplug/sparkplug_b.proto", import.meta.url));

/** Sparkplug B datatypes the station uses (specification 6.4.16). */
export const DataType = {
  Int64: 4,
  UInt32: 7,
  UInt64: 8,
  Float: 9,
  Double: 10,
  Boolean: 11,
  String: 12,
  DateTime: 13,
  DataSet: 16,
} as const;
export type DataTypeCode = (typeof DataType)[keyof typeof DataType];

export interface DataSetValue {
  columns: string[];
  types: DataTypeCode[];
  rows: Array<Array<string | number | boolean>>;
}

export type MetricValue = number | boolean | string | DataSetValue | null;

/** A metric as the station publishes or receives it (names and aliases per the birth certificate). */
export interface Metric {
  name?: string;
  alias?: number;
  timestamp?: number;
  /** Set on what the station sends; a received command may leave it out. */
  datatype?: number;
  isHistorical?: boolean;
  value: MetricValue;
}

export interface Payload {
  timestamp?: number;
  seq?: number;
  metrics: Metric[];
}

let cached: protobuf.Type | undefined;
function payloadType(): protobuf.Type {
  cached ??= protobuf.loadSync(SPARKPLUG_PROTO).lookupType("org.eclipse.tahu.protobuf.Payload");
  return cached;
}

/** Which oneof field carries a value of this datatype (specification 6.4.16). */
function valueField(datatype: DataTypeCode): string {
  switch (datatype) {
    case DataType.UInt32:
      return "intValue";
    case DataType.Int64:
    case DataType.UInt64:
    case DataType.DateTime:
      return "longValue";
    case DataType.Float:
      return "floatValue";
    case DataType.Double:
      return "doubleValue";
    case DataType.Boolean:
      return "booleanValue";
    case DataType.String:
      return "stringValue";
    case DataType.DataSet:
      return "datasetValue";
  }
}

function encodeDataSet(d: DataSetValue): Record<string, unknown> {
  return {
    numOfColumns: d.columns.length,
    columns: d.columns,
    types: d.types,
    rows: d.rows.map((row) => ({ elements: row.map((v, i) => ({ [valueField(d.types[i]!)]: v })) })),
  };
}

function encodeMetric(m: Metric): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (m.name !== undefined) out.name = m.name;
  if (m.alias !== undefined) out.alias = m.alias;
  if (m.timestamp !== undefined) out.timestamp = m.timestamp;
  if (m.datatype !== undefined) out.datatype = m.datatype;
  if (m.isHistorical) out.isHistorical = true;
  if (m.value === null) out.isNull = true;
  else if (m.datatype !== undefined) out[valueField(m.datatype as DataTypeCode)] = m.datatype === DataType.DataSet ? encodeDataSet(m.value as DataSetValue) : m.value;
  return out;
}

/** A Sparkplug B payload as protobuf bytes, through protobufjs and the Tahu schema. */
export function encodePayload(p: Payload): Buffer {
  const type = payloadType();
  const message = type.fromObject({
    ...(p.timestamp !== undefined && { timestamp: p.timestamp }),
    ...(p.seq !== undefined && { seq: p.seq }),
    metrics: p.metrics.map(encodeMetric),
  });
  return Buffer.from(type.encode(message).finish());
}

interface WireMetric {
  name?: string;
  alias?: number;
  timestamp?: number;
  datatype?: number;
  isHistorical?: boolean;
  isNull?: boolean;
  intValue?: number;
  longValue?: number;
  floatValue?: number;
  doubleValue?: number;
  booleanValue?: boolean;
  stringValue?: string;
}

/**
 * A received payload (NCMD, DCMD). Bytes that are not a Sparkplug payload
 * are refused with E_SPARKPLUG_PAYLOAD. A metric's value is taken from
 * whichever value field it carries: a command names its metric and may
 * leave the datatype out.
 */
export function decodePayload(bytes: Uint8Array): Payload {
  const type = payloadType();
  let wire: { timestamp?: number; seq?: number; metrics?: WireMetric[] };
  try {
    wire = type.toObject(type.decode(bytes), { longs: Number, defaults: false, oneofs: false }) as typeof wire;
  } catch (err) {
    throw new EdgeError("E_SPARKPLUG_PAYLOAD", `not a Sparkplug B payload: ${(err as Error).message}`);
  }
  return {
    timestamp: wire.timestamp,
    seq: wire.seq,
    metrics: (wire.metrics ?? []).map((m) => ({
      name: m.name,
      alias: m.alias,
      timestamp: m.timestamp,
      datatype: m.datatype,
      isHistorical: m.isHistorical,
      // A Float carries 7 significant digits: 0.7 written as a Float is 0.7, not 0.699999988079071.
      value: m.isNull ? null : (m.booleanValue ?? m.doubleValue ?? (m.floatValue === undefined ? undefined : Number(m.floatValue.toPrecision(7))) ?? m.longValue ?? m.intValue ?? m.stringValue ?? null),
    })),
  };
}
