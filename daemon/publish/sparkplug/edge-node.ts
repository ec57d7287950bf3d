import mqtt, { type IClientOptions, type MqttClient } from "mqtt";
import { sleepUnref } from "../../util/clock.js";
import { EdgeError, errorMessage } from "../../util/errors.js";
import type { Logger } from "../../util/log.js";
import type { OutboxMessage } from "../../records/store.js";
import { UNSUPPORTED_PROTOCOL } from "../mqtt-publisher.js";
import { TokenBucket, type Rate } from "../command-limits.js";
import type { BdSeqFile } from "./bdseq-file.js";
import { DataType, decodePayload, encodePayload, type Metric, type Payload } from "./codec.js";
import { DEFECT_EVENT_METRIC, defectEventMetric } from "./defect-event.js";
import { MetricBook } from "./metric-book.js";
import { RecentEvents } from "./recent-events.js";
import type { NodeSource } from "./readings.js";
import { deviceTopic, nodeTopic, stateTopic, type EdgeNodeId } from "./topics.js";

export const REBIRTH_METRIC = "Node Control/Rebirth";
export const BDSEQ_METRIC = "bdSeq";

/** Rebirths on request: a few at once, then one a second. */
const REBIRTHS: Rate = { per_s: 1, burst: 3 };

export interface EdgeNodeOptions {
  id: EdgeNodeId;
  /** With a primary host the node is born only while its STATE says online. */
  primaryHostId?: string;
  /** Changed metrics are sent at most this often. */
  dataIntervalMs: number;
  /** Defect events sent this recently go out again after a session the host may have missed them in. */
  replayWindowMs: number;
  url: string;
  clientId: string;
  username?: string;
  password?: string;
  tls: IClientOptions;
  keepaliveS: number;
  reconnectMs: number;
  connectTimeoutMs: number;
  protocol: "auto" | "5" | "3.1.1";
  bdSeq: BdSeqFile;
  /** A DCMD larger than this is refused unread (publish.commands.max_payload_bytes). */
  maxCommandBytes: number;
  /** MQTT 5 Maximum Packet Size in CONNECT: the broker drops anything larger for this client. */
  maxIncomingPacketBytes: number;
}

/** A device command as it arrived, for the command handler. */
export interface DeviceCommand {
  device: string;
  metrics: Metric[];
  /** Name of each alias in the device's current birth. */
  nameOf: (alias: number) => string | undefined;
  userProperties: Record<string, string | string[]>;
  retain: boolean;
  bytes: number;
  /** Set when the payload is not a Sparkplug payload. */
  malformed?: EdgeError;
}

/**
 * The station as a Sparkplug B 3.0 edge node, on its own MQTT connection:
 * the NDEATH is that connection's Will, which a connection can have only
 * one of. Every CONNECT takes the next bdSeq (kept in the data dir); the
 * node subscribes to its NCMD, its devices' DCMD and its primary host's
 * STATE, and is born (NBIRTH, then each DBIRTH, seq from 0) once connected
 * and, with a primary host, once that host is online. An offline STATE ends
 * the session (NDEATH, disconnect) and the node waits, connected, for the
 * host's return. Defect events come from the outbox and are sent only
 * while born, historical when their part is older than the session.
 */
export class SparkplugNode {
  private client: MqttClient | undefined;
  private version: 5 | 4;
  private everConnected = false;
  private bdSeq = -1;
  private seq = 0;
  private born = false;
  /** When the current session's first birth went out: older defect events are historical. */
  private sessionBornAtMs = 0;
  private readonly book = new MetricBook();
  private hostOnline = false;
  private lastStateTs = -Infinity;
  private timer: NodeJS.Timeout | undefined;
  private closing = false;
  private readonly bornListeners: Array<() => void> = [];
  private commandHandler: ((c: DeviceCommand) => void) | undefined;
  private lastErrorCode: string | undefined;
  private readonly rebirths = new TokenBucket(REBIRTHS);
  private rebirthTimer: NodeJS.Timeout | undefined;
  /** Births sent (first ones and rebirths), sessions ended by an offline STATE. */
  readonly counts = { births: 0, rebirthRequests: 0, hostOffline: 0, defectEvents: 0, replayed: 0 };
  private readonly recent: RecentEvents;

  constructor(
    private readonly o: EdgeNodeOptions,
    private readonly source: NodeSource,
    private readonly log: Logger,
  ) {
    this.version = o.protocol === "3.1.1" ? 4 : 5;
    this.recent = new RecentEvents(o.replayWindowMs);
  }

  /** Starts connecting; resolves without waiting for the broker or the host. */
  async start(): Promise<void> {
    this.bdSeq = this.o.bdSeq.next();
    this.client = this.open();
    this.timer = setInterval(() => this.publishChanges(), this.o.dataIntervalMs);
    this.timer.unref();
  }

  /** Born: DATA may be sent. The outbox drainer reads this as "connected". */
  connected(): boolean {
    return this.born && this.client?.connected === true;
  }

  /** Called on every birth, so that held defect events go out. */
  onConnect(listener: () => void): void {
    this.bornListeners.push(listener);
  }

  onDeviceCommand(handler: (c: DeviceCommand) => void): void {
    this.commandHandler = handler;
  }

  /** A defect event from the outbox as a DDATA on its line's device; settles once written to the broker's socket (QoS 0, as DDATA must be). */
  publish(entry: OutboxMessage): Promise<void> {
    const client = this.client;
    if (!client || !this.connected()) return Promise.reject(new EdgeError("E_PUBLISH_OFFLINE", "Sparkplug node not born"));
    const device = entry.topic.split("/")[4] ?? "";
    const alias = this.book.alias(device, DEFECT_EVENT_METRIC);
    if (alias === undefined) return Promise.reject(new EdgeError("E_PUBLISH_REFUSED", `no Sparkplug device '${device}' on this node for ${entry.id}`));
    let metric: Metric;
    try {
      metric = defectEventMetric(entry, alias, this.sessionBornAtMs);
    } catch (err) {
      return Promise.reject(new EdgeError("E_PUBLISH_REFUSED", `defect event ${entry.id} is not readable: ${errorMessage(err)}`));
    }
    return this.send(client, entry.topic, { timestamp: Date.now(), seq: this.nextSeq(), metrics: [metric] }).then(() => {
      this.counts.defectEvents++;
      this.recent.noteSent(entry, Date.now());
    });
  }

  /** The events the host may have missed, again, right after a birth: older than the session, so historical. */
  private replay(client: MqttClient): void {
    for (const entry of this.recent.take()) {
      const alias = this.book.alias(entry.topic.split("/")[4] ?? "", DEFECT_EVENT_METRIC);
      if (alias === undefined) continue;
      const metric = defectEventMetric(entry, alias, Number.POSITIVE_INFINITY);
      this.counts.replayed++;
      void this.send(client, entry.topic, { timestamp: Date.now(), seq: this.nextSeq(), metrics: [metric] }).then(
        () => this.recent.noteSent(entry, Date.now()),
        () => undefined,
      );
    }
  }

  /** Clean stop: DDEATH for every device, NDEATH, DISCONNECT, within about `withinMs`. */
  async close(withinMs = 1000): Promise<void> {
    this.closing = true;
    if (this.timer) clearInterval(this.timer);
    if (this.rebirthTimer) clearTimeout(this.rebirthTimer);
    const client = this.client;
    if (!client) return;
    const clean = async () => {
      if (this.connected()) {
        for (const device of this.book.devices()) {
          void this.send(client, deviceTopic(this.o.id, "DDEATH", device), { timestamp: Date.now(), seq: this.nextSeq(), metrics: [] }).catch(() => undefined);
        }
      }
      this.born = false;
      if (client.connected) await client.publishAsync(nodeTopic(this.o.id, "NDEATH"), this.ndeath(), { qos: 1, retain: false }).catch(() => undefined);
      await client.endAsync();
    };
    const inTime = client.connected && (await Promise.race([clean().then(() => true), sleepUnref(withinMs).then(() => false)]));
    if (!inTime) await Promise.race([new Promise<void>((r) => client.end(true, () => r())), sleepUnref(200)]);
  }

  private open(): MqttClient {
    const o = this.o;
    const client = mqtt.connect(o.url, {
      ...o.tls,
      clientId: o.clientId,
      username: o.username,
      password: o.password,
      protocolVersion: this.version,
      // Sparkplug sessions are clean: no queued commands from an old session.
      clean: true,
      ...(this.version === 5 && { properties: { sessionExpiryInterval: 0, maximumPacketSize: o.maxIncomingPacketBytes } }),
      keepalive: o.keepaliveS,
      reconnectPeriod: o.reconnectMs,
      connectTimeout: o.connectTimeoutMs,
      resubscribe: false,
      queueQoSZero: false,
      will: { topic: nodeTopic(o.id, "NDEATH"), payload: this.ndeath(), qos: 1, retain: false },
    });
    let sessionOpened = false;
    client.on("connect", () => {
      sessionOpened = true;
      this.everConnected = true;
      this.lastErrorCode = undefined;
      this.log.info({ url: o.url, node: `${o.id.groupId}/${o.id.edgeNodeId}`, bdSeq: this.bdSeq }, "Sparkplug node connected");
      void this.subscribe(client);
    });
    client.on("message", (topic, payload, packet) => this.dispatch(client, topic, payload, packet.retain, packet.properties?.userProperties ?? {}));
    client.on("close", () => {
      // Lost with the link: what the broker had not passed on yet.
      if (this.born) this.recent.resendLater(Date.now());
      this.born = false;
      if (this.closing || this.client !== client || !sessionOpened) return;
      // The next session's CONNECT carries the next bdSeq in its Will; attempts the broker never took need none.
      sessionOpened = false;
      this.bdSeq = o.bdSeq.next();
      client.options.will = { topic: nodeTopic(o.id, "NDEATH"), payload: this.ndeath(), qos: 1, retain: false };
    });
    client.on("error", (err: Error & { code?: number | string }) => {
      const code = typeof err.code === "number" ? `E_MQTT_CONNACK_${err.code}` : String(err.code ?? "E_MQTT");
      if (this.lastErrorCode !== code) this.log.warn({ code, url: o.url }, `Sparkplug node: ${err.message}`);
      this.lastErrorCode = code;
      if (!this.everConnected && this.version === 5 && o.protocol === "auto" && typeof err.code === "number" && UNSUPPORTED_PROTOCOL.has(err.code)) {
        this.log.info("broker refuses MQTT 5: the Sparkplug node falls back to 3.1.1");
        this.version = 4;
        this.reopen(client);
      }
    });
    return client;
  }

  /**
   * Ends this connection and starts a new session (next bdSeq). `clean`: with
   * a DISCONNECT, after the node published its own NDEATH, so that the broker
   * does not publish the Will as a second one; the new session connects only
   * once the old one is gone (the same client id would take it over, and a
   * take-over publishes the old session's Will).
   */
  private reopen(client: MqttClient, clean = false): void {
    client.removeAllListeners();
    client.on("error", () => undefined);
    this.born = false;
    let next = false;
    const openNext = () => {
      if (next || this.closing) return;
      next = true;
      this.bdSeq = this.o.bdSeq.next();
      this.client = this.open();
    };
    if (!clean) {
      client.end(true);
      openNext();
      return;
    }
    client.end(false, {}, openNext);
    // A broker that does not answer the DISCONNECT: drop the socket and go on.
    setTimeout(() => {
      if (next) return;
      client.end(true);
      openNext();
    }, 2000).unref();
  }

  /** NCMD, DCMD and STATE first: nothing is born before the node can hear a rebirth request or its host. */
  private async subscribe(client: MqttClient): Promise<void> {
    const filters = [nodeTopic(this.o.id, "NCMD"), deviceTopic(this.o.id, "DCMD", "+")];
    if (this.o.primaryHostId) filters.push(stateTopic(this.o.primaryHostId));
    try {
      // Retain-as-published (MQTT 5): a retained DCMD sent while subscribed is seen as retained, and refused.
      await client.subscribeAsync(filters, this.version === 5 ? { qos: 1, rap: true } : { qos: 1 });
    } catch (err) {
      this.log.warn({ err }, "Sparkplug node: subscribing failed; retried on the next connection");
      return;
    }
    if (!this.o.primaryHostId) this.birth(client);
  }

  private dispatch(client: MqttClient, topic: string, payload: Buffer, retain: boolean, userProperties: Record<string, string | string[]>): void {
    if (client !== this.client) return;
    const levels = topic.split("/");
    if (this.o.primaryHostId && topic === stateTopic(this.o.primaryHostId)) return this.onState(client, payload);
    if (levels[2] === "NCMD") return this.onNodeCommand(client, payload);
    if (levels[2] === "DCMD" && levels.length === 5) {
      const device = levels[4]!;
      if (!this.book.has(device) && !this.source.devices().some((d) => d.id === device)) {
        this.log.warn({ device: device.slice(0, 64) }, "DCMD for a device this node does not have: ignored");
        return;
      }
      const names = this.book.names(device);
      let metrics: Metric[] = [];
      let malformed: EdgeError | undefined;
      // Too large is refused on its size: nothing of it is decoded.
      if (payload.byteLength <= this.o.maxCommandBytes) {
        try {
          metrics = decodePayload(payload).metrics;
        } catch (err) {
          malformed = new EdgeError("E_CMD_MALFORMED", errorMessage(err));
        }
      }
      this.commandHandler?.({ device, metrics, nameOf: (a) => names.get(a), userProperties, retain, bytes: payload.byteLength, malformed });
    }
  }

  private onNodeCommand(client: MqttClient, payload: Buffer): void {
    if (payload.byteLength > this.o.maxCommandBytes) {
      this.log.warn({ bytes: payload.byteLength }, "NCMD ignored: larger than publish.commands.max_payload_bytes");
      return;
    }
    let metrics: Metric[];
    try {
      metrics = decodePayload(payload).metrics;
    } catch (err) {
      this.log.warn({ code: errorMessage(err) }, "NCMD ignored: not a Sparkplug payload");
      return;
    }
    if (metrics.some((m) => m.name === REBIRTH_METRIC && m.value === true)) {
      this.counts.rebirthRequests++;
      this.log.info("Sparkplug rebirth requested");
      // A host that asks has lost track (a seq gap, its own reconnect): the events it may have missed come again.
      this.recent.resendLater(Date.now());
      this.rebirth(client);
    }
  }

  /**
   * A rebirth now, within REBIRTHS; beyond it one more once the bucket
   * allows, whatever the number of requests meanwhile: a flood of NCMDs
   * costs a birth a second, and no request goes unanswered.
   */
  private rebirth(client: MqttClient): void {
    if (this.rebirthTimer) return;
    if (this.rebirths.take()) {
      // Nothing else is sent between the request and the new births: all of it is synchronous.
      if (this.connected()) this.birth(client);
      return;
    }
    this.rebirthTimer = setTimeout(() => {
      this.rebirthTimer = undefined;
      this.rebirth(client);
    }, 1000 / REBIRTHS.per_s);
    this.rebirthTimer.unref();
  }

  /** Sparkplug 3.0 STATE: `{"online": bool, "timestamp": ms}`; an older timestamp than the last one is stale and ignored. */
  private onState(client: MqttClient, payload: Buffer): void {
    let state: { online?: unknown; timestamp?: unknown };
    try {
      state = JSON.parse(payload.toString("utf8")) as typeof state;
    } catch {
      this.log.warn({ code: "E_SPARKPLUG_STATE" }, "primary host STATE is not JSON: ignored");
      return;
    }
    if (typeof state?.online !== "boolean" || typeof state.timestamp !== "number") {
      this.log.warn({ code: "E_SPARKPLUG_STATE" }, "primary host STATE lacks a boolean 'online' or a numeric 'timestamp': ignored");
      return;
    }
    if (state.timestamp < this.lastStateTs) return;
    this.lastStateTs = state.timestamp;
    this.hostOnline = state.online;
    if (state.online) {
      if (!this.born) this.birth(client);
      return;
    }
    if (!this.born) return;
    this.counts.hostOffline++;
    this.recent.resendLater(Date.now());
    this.log.warn({ host: this.o.primaryHostId }, "primary host offline: ending the Sparkplug session until it is back (defect events wait in the outbox)");
    this.born = false;
    const old = client;
    void old
      .publishAsync(nodeTopic(this.o.id, "NDEATH"), this.ndeath(), { qos: 1, retain: false })
      .catch(() => undefined)
      .finally(() => {
        if (this.client === old) this.reopen(old, true);
      });
  }

  /** NBIRTH then every DBIRTH, seq from 0, every metric with its name, alias, datatype and value. */
  private birth(client: MqttClient): void {
    if (!client.connected || this.closing) return;
    if (this.o.primaryHostId && !this.hostOnline) return;
    const now = Date.now();
    const { node, devices } = this.book.birth(this.source, now);
    this.seq = 0;
    const nbirth: Metric[] = [
      { name: BDSEQ_METRIC, timestamp: now, datatype: DataType.Int64, value: this.bdSeq },
      // Without an alias: a host must be able to write it by name before it knows any alias.
      { name: REBIRTH_METRIC, timestamp: now, datatype: DataType.Boolean, value: false },
      ...node,
    ];
    void this.send(client, nodeTopic(this.o.id, "NBIRTH"), { timestamp: now, seq: 0, metrics: nbirth }).catch(() => undefined);
    for (const d of devices) void this.send(client, deviceTopic(this.o.id, "DBIRTH", d.id), { timestamp: now, seq: this.nextSeq(), metrics: d.metrics }).catch(() => undefined);
    const first = !this.born;
    this.born = true;
    if (first) this.sessionBornAtMs = now;
    this.counts.births++;
    this.log.info({ bdSeq: this.bdSeq, devices: devices.map((d) => d.id) }, "Sparkplug NBIRTH and DBIRTH sent");
    this.replay(client);
    for (const l of this.bornListeners) l();
  }

  /** NDATA and DDATA with the metrics that changed since they were last sent; metrics the birth lacks mean a rebirth. */
  private publishChanges(): void {
    const client = this.client;
    if (!client || !this.connected()) return;
    const now = Date.now();
    const changes = this.book.changes(this.source, now);
    if (changes === "rebirth") {
      this.log.info("the station's metrics changed (a model with other classes, another line): Sparkplug rebirth");
      this.birth(client);
      return;
    }
    if (changes.node.length > 0) void this.send(client, nodeTopic(this.o.id, "NDATA"), { timestamp: now, seq: this.nextSeq(), metrics: changes.node }).catch(() => undefined);
    for (const d of changes.devices) {
      if (d.metrics.length > 0) void this.send(client, deviceTopic(this.o.id, "DDATA", d.id), { timestamp: now, seq: this.nextSeq(), metrics: d.metrics }).catch(() => undefined);
    }
  }

  /** Sends changed metrics now (after a command changed them) rather than at the next interval. */
  flushChanges(): void {
    this.publishChanges();
  }

  private send(client: MqttClient, topic: string, payload: Payload): Promise<void> {
    const bytes = encodePayload(payload);
    return new Promise((resolve, reject) => {
      client.publish(topic, bytes, { qos: 0, retain: false }, (err) => (err ? reject(new EdgeError("E_PUBLISH", errorMessage(err), { cause: err })) : resolve()));
    });
  }

  private nextSeq(): number {
    this.seq = (this.seq + 1) % 256;
    return this.seq;
  }

  /** The death certificate: only the bdSeq, no seq. */
  private ndeath(): Buffer {
    return encodePayload({ timestamp: Date.now(), metrics: [{ name: BDSEQ_METRIC, datatype: DataType.Int64, value: this.bdSeq }] });
  }
}
