import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import mqtt, { type MqttClient } from "mqtt";
import protobuf from "protobufjs";
import { sleep } from "../../daemon/util/clock.js";

/**
 * An independent Sparkplug B 3.0 host application: its own decoding (protobufjs
 * reflection over the specification's .proto, none of the daemon's code), its
 * own bookkeeping per edge node, and the host's side of the rules. Whatever the
 * node does against them is written to `violations`, with the conformance
 * statement it breaks.
 */

const PROTO = fileURLToPath(new URL("../../../daemon/publish/sparkplug/sparkplug_b.proto", import.meta.url));
const Payload = protobuf.loadSync(PROTO).lookupType("org.eclipse.tahu.protobuf.Payload");

export interface HostMetric {
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
  datasetValue?: { columns?: string[]; types?: number[]; rows?: Array<{ elements?: Array<Record<string, unknown>> }> };
}

export interface HostPayload {
  timestamp?: number;
  seq?: number;
  metrics?: HostMetric[];
}

export interface Received {
  verb: string;
  device?: string;
  payload: HostPayload;
  qos: number;
  retain: boolean;
  atMs: number;
}

export interface DefectEvent {
  /** The device (line) whose DDATA carried it. */
  device: string;
  id: string;
  part: number;
  reason: string;
  classes: string;
  scores: string;
  snapshot: string;
  historical: boolean;
  timestamp: number;
}

export function decode(bytes: Buffer): HostPayload {
  return Payload.toObject(Payload.decode(bytes), { longs: Number, defaults: false }) as HostPayload;
}

export function encode(p: HostPayload): Buffer {
  return Buffer.from(Payload.encode(Payload.fromObject(p)).finish());
}

/** The value of a metric, whichever field carries it. */
export function valueOf(m: HostMetric): unknown {
  if (m.isNull) return null;
  return m.booleanValue ?? m.doubleValue ?? m.floatValue ?? m.longValue ?? m.intValue ?? m.stringValue ?? m.datasetValue;
}

interface Definition {
  name: string;
  datatype: number;
  device: string;
}

export class HostApplication {
  readonly violations: string[] = [];
  readonly messages: Received[] = [];
  readonly events: DefectEvent[] = [];
  /** Values by device ("" the node) and metric name, as the host's tags would hold them. */
  readonly tags = new Map<string, Map<string, unknown>>();
  births: Array<{ bdSeq: number; atMs: number }> = [];
  ndeaths: Array<{ bdSeq: number; matchesBirth: boolean }> = [];
  gaps = 0;
  rebirthsRequested = 0;
  private client: MqttClient | undefined;
  private online = false;
  private expectedSeq: number | undefined;
  private bdSeq: number | undefined;
  private aliases = new Map<number, Definition>();
  private stateTimestamp = 0;
  private connected = false;
  /** False after the host's own reconnect until the next NBIRTH: data then is of a session it did not see begin. */
  private known = true;
  private deafened = false;

  constructor(
    private readonly url: string,
    private readonly group: string,
    private readonly node: string,
    private readonly o: { primaryHostId?: string; rebirthOnGap?: boolean; connectOptions?: { username?: string; password?: string; ca?: string; cert?: string; key?: string } } = {},
  ) {}

  /** Connects (clean session), subscribes, then publishes its STATE online when it is a primary host. */
  async connect(): Promise<void> {
    const id = this.o.primaryHostId;
    this.stateTimestamp = Math.max(Date.now(), this.stateTimestamp + 1);
    const c = this.o.connectOptions ?? {};
    const client = await mqtt.connectAsync(this.url, {
      ...(c.username && { username: c.username, password: c.password }),
      ...(c.ca && { ca: readFileSync(c.ca), cert: readFileSync(c.cert!), key: readFileSync(c.key!) }),
      clientId: `host-${id ?? "observer"}-${process.pid}`,
      protocolVersion: 5,
      clean: true,
      properties: { sessionExpiryInterval: 0 },
      reconnectPeriod: 0,
      ...(id && { will: { topic: `spBv1.0/STATE/${id}`, payload: Buffer.from(JSON.stringify({ online: false, timestamp: this.stateTimestamp })), qos: 1, retain: true } }),
    });
    client.on("error", () => undefined);
    // Back after a session of its own was lost: what the node sent meanwhile is unknown until its next birth, which the host asks for.
    const again = this.connected;
    if (again) this.known = false;
    this.connected = true;
    client.on("message", (topic, payload, packet) => this.receive(topic, payload, packet.qos, packet.retain));
    await client.subscribeAsync(`spBv1.0/${this.group}/#`, { qos: 1 });
    this.client = client;
    if (id) await client.publishAsync(`spBv1.0/STATE/${id}`, JSON.stringify({ online: true, timestamp: this.stateTimestamp }), { qos: 1, retain: true });
    if (again) await this.requestRebirth();
  }

  /** Messages lost in transit for a while: the host sees a gap in seq. */
  async deaf(ms: number): Promise<void> {
    this.deafened = true;
    await sleep(ms);
    this.deafened = false;
  }

  /** Gone without a word: the broker publishes the host's Will (STATE offline). */
  async crash(): Promise<void> {
    const c = this.client;
    this.client = undefined;
    c?.stream.destroy();
    await c?.endAsync(true).catch(() => undefined);
  }

  async disconnect(): Promise<void> {
    const c = this.client;
    this.client = undefined;
    await c?.endAsync(true);
  }

  /** NCMD Node Control/Rebirth = true (tck-id-operational-behavior-data-commands-ncmd-rebirth-*). */
  async requestRebirth(): Promise<void> {
    this.rebirthsRequested++;
    await this.client?.publishAsync(`spBv1.0/${this.group}/NCMD/${this.node}`, encode({ timestamp: Date.now(), metrics: [{ name: "Node Control/Rebirth", datatype: 11, booleanValue: true }] }), { qos: 0 });
  }

  /** A DCMD writing metrics of a device, named as in its DBIRTH. */
  async deviceCommand(device: string, metrics: HostMetric[]): Promise<void> {
    await this.client!.publishAsync(`spBv1.0/${this.group}/DCMD/${this.node}/${device}`, encode({ timestamp: Date.now(), metrics }), { qos: 0 });
  }

  tag(device: string, name: string): unknown {
    return this.tags.get(device)?.get(name);
  }

  count(verb: string): number {
    return this.messages.filter((m) => m.verb === verb).length;
  }

  async until(what: string, cond: () => boolean, timeoutMs = 90_000): Promise<void> {
    const end = Date.now() + timeoutMs;
    while (!cond()) {
      if (Date.now() > end) throw new Error(`host application: timed out waiting for ${what}; violations: ${this.violations.join("; ")}`);
      await sleep(20);
    }
  }

  private violation(statement: string, what: string): void {
    this.violations.push(`${statement}: ${what}`);
  }

  private receive(topic: string, bytes: Buffer, qos: number, retain: boolean): void {
    const [, group, verb, node, device] = topic.split("/");
    if (group !== this.group || node !== this.node || !verb) return;
    if (verb === "NCMD" || verb === "DCMD" || this.deafened) return;
    let payload: HostPayload;
    try {
      payload = decode(bytes);
    } catch (err) {
      this.violation("tck-id-message-flow-edge-node-birth-publish-nbirth-payload", `${verb} is not a Sparkplug payload (${(err as Error).message})`);
      return;
    }
    this.messages.push({ verb, device, payload, qos, retain, atMs: Date.now() });
    if (verb !== "NDEATH") {
      if (qos !== 0) this.violation(`tck-id-topics-${verb.toLowerCase()}-mqtt`, `${verb} sent with QoS ${qos}`);
      if (retain) this.violation(`tck-id-topics-${verb.toLowerCase()}-mqtt`, `${verb} retained`);
      if (payload.timestamp === undefined) this.violation(`tck-id-topics-${verb.toLowerCase()}-timestamp`, `${verb} without a timestamp`);
      if (payload.seq === undefined) this.violation("tck-id-payloads-sequence-num-always-included", `${verb} without seq`);
    }
    switch (verb) {
      case "NBIRTH":
        return this.nbirth(payload);
      case "NDEATH":
        return this.ndeath(payload);
      case "DBIRTH":
        return this.dbirth(device!, payload);
      case "NDATA":
      case "DDATA":
      case "DDEATH":
        return this.data(verb, device ?? "", payload);
    }
  }

  private nbirth(p: HostPayload): void {
    if (p.seq !== 0) this.violation("tck-id-topics-nbirth-seq-num", `NBIRTH seq ${p.seq}`);
    const metrics = p.metrics ?? [];
    const bd = metrics.find((m) => m.name === "bdSeq");
    if (!bd || bd.datatype !== 4) this.violation("tck-id-topics-nbirth-bdseq-included", "NBIRTH without an Int64 bdSeq");
    const rebirth = metrics.find((m) => m.name === "Node Control/Rebirth");
    if (!rebirth || rebirth.datatype !== 11 || rebirth.booleanValue !== false) this.violation("tck-id-topics-nbirth-rebirth-metric", "no Boolean 'Node Control/Rebirth' = false");
    if (rebirth?.alias !== undefined) this.violation("tck-id-operational-behavior-data-commands-rebirth-name-aliases", "the rebirth metric has an alias");
    this.online = true;
    this.known = true;
    this.bdSeq = bd?.longValue ?? 0;
    this.births.push({ bdSeq: this.bdSeq, atMs: Date.now() });
    this.aliases = new Map();
    this.tags.clear();
    this.define("", metrics.filter((m) => m.name !== "bdSeq" && m.name !== "Node Control/Rebirth"));
    this.expectedSeq = 1;
  }

  private dbirth(device: string, p: HostPayload): void {
    if (!this.known) return;
    if (!this.online) {
      this.violation("tck-id-message-flow-device-birth-publish-nbirth-wait", `DBIRTH of ${device} before any NBIRTH of the session`);
      return;
    }
    this.checkSeq("DBIRTH", p);
    this.define(device, p.metrics ?? []);
  }

  private define(device: string, metrics: HostMetric[]): void {
    const tags = new Map<string, unknown>();
    this.tags.set(device, tags);
    for (const m of metrics) {
      if (m.name === undefined || m.alias === undefined || m.datatype === undefined) {
        this.violation("tck-id-payloads-alias-birth-requirement", `a birth metric without name, alias or datatype (${m.name ?? m.alias})`);
        continue;
      }
      if (this.aliases.has(m.alias)) this.violation("tck-id-payloads-alias-uniqueness", `alias ${m.alias} given twice (${m.name})`);
      this.aliases.set(m.alias, { name: m.name, datatype: m.datatype, device });
      tags.set(m.name, valueOf(m));
    }
  }

  private data(verb: string, device: string, p: HostPayload): void {
    if (!this.known) return;
    if (!this.online) {
      this.violation("tck-id-payloads-ndata-order", `${verb} before the NBIRTH of the session`);
      return;
    }
    this.checkSeq(verb, p);
    if (verb === "DDEATH") return;
    for (const m of p.metrics ?? []) {
      const def = m.alias === undefined ? undefined : this.aliases.get(m.alias);
      if (!def) {
        this.violation("tck-id-payloads-alias-data-cmd-requirement", `${verb} metric alias ${m.alias} is not in the births`);
        continue;
      }
      if (def.device !== device) this.violation("tck-id-payloads-alias-uniqueness", `alias ${m.alias} (${def.name}) of '${def.device}' in a ${verb} of '${device}'`);
      if (m.datatype !== undefined && m.datatype !== def.datatype) this.violation("tck-id-topics-dbirth-metrics", `${def.name}: datatype ${m.datatype}, born ${def.datatype}`);
      if (def.name === "Defects/Event") this.event(device, m);
      else if (!m.isHistorical) this.tags.get(device)?.set(def.name, valueOf(m));
    }
  }

  private event(device: string, m: HostMetric): void {
    const ds = m.datasetValue;
    const columns = ds?.columns ?? [];
    for (const row of ds?.rows ?? []) {
      const v = (c: string) => {
        const e = row.elements?.[columns.indexOf(c)] ?? {};
        return e.stringValue ?? e.longValue ?? e.intValue;
      };
      this.events.push({
        device,
        id: String(v("id")),
        part: Number(v("part")),
        reason: String(v("reason")),
        classes: String(v("classes")),
        scores: String(v("scores")),
        snapshot: String(v("snapshot")),
        historical: m.isHistorical === true,
        timestamp: m.timestamp ?? 0,
      });
    }
  }

  private ndeath(p: HostPayload): void {
    const metrics = p.metrics ?? [];
    if (p.seq !== undefined) this.violation("tck-id-topics-ndeath-seq", "NDEATH with a seq");
    if (metrics.length !== 1 || metrics[0]!.name !== "bdSeq") this.violation("tck-id-topics-ndeath-payload", "NDEATH is not only the bdSeq");
    const bd = metrics[0]?.longValue ?? -1;
    // A death of an older session (bdSeq not the current birth's) is ignored, as a host must.
    const matchesBirth = bd === this.bdSeq;
    this.ndeaths.push({ bdSeq: bd, matchesBirth });
    if (matchesBirth) {
      this.online = false;
      this.expectedSeq = undefined;
    }
  }

  private checkSeq(verb: string, p: HostPayload): void {
    const seq = p.seq ?? -1;
    if (seq < 0 || seq > 255) this.violation("tck-id-payloads-sequence-num-incrementing", `${verb} seq ${seq} out of 0..255`);
    if (this.expectedSeq !== undefined && seq !== this.expectedSeq) {
      this.gaps++;
      if (this.o.rebirthOnGap) void this.requestRebirth();
    }
    this.expectedSeq = (seq + 1) % 256;
  }
}
