import { readFileSync } from "node:fs";
import { sleepUnref } from "../util/clock.js";
import mqtt, { type IClientOptions, type MqttClient } from "mqtt";
import { EdgeError, errorMessage } from "../util/errors.js";
import type { Logger } from "../util/log.js";
import { PUBLISH_REFUSED, topicMatches, type IncomingMessage, type OutgoingMessage, type Publisher, type PublishProblem } from "./publisher.js";
import { topicNameProblem } from "./reply-topic.js";

export interface MqttPublisherOptions {
  url: string;
  clientId: string;
  username?: string;
  password?: string;
  /** PEM files: the CA that signed the broker, and this station's certificate and key. */
  caFile?: string;
  certFile?: string;
  keyFile?: string;
  keepaliveS: number;
  reconnectMs: number;
  connectTimeoutMs: number;
  /** 5 first, falling back to 3.1.1 when the broker refuses 5. */
  protocol: "auto" | "5" | "3.1.1";
  /** Retained: `online` payload on every connect, `offline` as the Last Will and on a clean stop. */
  statusTopic: string;
  onlinePayload: () => string;
  offlinePayload: () => string;
  /**
   * MQTT 5 Maximum Packet Size in CONNECT: the broker never sends the station
   * a larger packet (Mosquitto drops it for this client), so a huge publish
   * to cmd/ is never read.
   */
  maxIncomingPacketBytes: number;
}

/** A clean disconnect (offline status, DISCONNECT) takes one round trip; beyond this the broker is not answering. */
const CLOSE_MS = 1000;

/** Dropping the socket is immediate; this only bounds waiting for mqtt.js to say so. */
const FORCED_END_MS = 200;

/** QoS 1 commands the broker may have in flight to the station at once (MQTT 5 Receive Maximum). */
const RECEIVE_MAXIMUM = 16;

/** PUBACK reasons that are worth a resend later (quota exceeded); every other one >= 0x80 is a refusal. */
const TRANSIENT_REASONS = new Set([0x97]);

/** The same problem is raised again only after this long (it is counted every time). */
const PROBLEM_INTERVAL_MS = 60_000;

/** Fixed header, topic length, packet id and properties length: the bytes of a PUBLISH besides topic, payload and properties. */
const PUBLISH_OVERHEAD = 16;

/** CONNACK codes meaning "this broker does not speak MQTT 5" (3.1.1 code 1, MQTT 5 reason 0x84). */
export const UNSUPPORTED_PROTOCOL = new Set([1, 132]);

/**
 * The plant's broker over mqtt.js. QoS 1 publishes settle on PUBACK; when the
 * link drops, every unsettled publish is rejected at once and removed from
 * mqtt.js's outgoing store, so the outbox drainer resends defects from the
 * database and nothing is resent by mqtt.js on reconnect: a publish the broker
 * disconnected the station for cannot come back with every reconnection.
 * A publish the broker could only refuse (a topic it disconnects for, a
 * packet larger than its maximum) is refused here, unsent.
 */
export class MqttPublisher implements Publisher {
  readonly kind = "mqtt";
  private client: MqttClient | undefined;
  private version: 5 | 4;
  private everConnected = false;
  private readonly pending = new Set<(err: Error) => void>();
  private readonly connectListeners: Array<() => void> = [];
  private readonly subscriptions: Array<{ filter: string; handler: (m: IncomingMessage) => void }> = [];
  private readonly problemListeners: Array<(p: PublishProblem) => void> = [];
  private readonly problemAt = new Map<string, number>();
  /** The broker's Maximum Packet Size from its CONNACK (MQTT 5), when it gave one. */
  private brokerMaxPacket: number | undefined;
  private closing = false;
  /** Publishes refused (by the broker or before sending), and disconnects the broker gave a reason for. */
  refused = 0;
  disconnects = 0;
  /** The last reason the broker refused or dropped us, for status and tests. */
  lastError: { code: string; message: string } | undefined;

  constructor(
    private readonly o: MqttPublisherOptions,
    private readonly log: Logger,
  ) {
    this.version = o.protocol === "3.1.1" ? 4 : 5;
  }

  async connect(): Promise<void> {
    const tls = this.readTls();
    this.client = this.open(tls);
  }

  connected(): boolean {
    return this.client?.connected === true;
  }

  publish(message: OutgoingMessage): Promise<void> {
    const client = this.client;
    if (!client?.connected) return Promise.reject(new EdgeError("E_PUBLISH_OFFLINE", "broker not connected"));
    const unsendable = this.unsendable(message);
    if (unsendable) return Promise.reject(this.refusal(message.topic, unsendable));
    return new Promise((resolve, reject) => {
      const fail = (err: Error) => {
        this.pending.delete(fail);
        reject(err);
      };
      this.pending.add(fail);
      const properties = this.version === 5 && message.correlationData ? { correlationData: message.correlationData } : undefined;
      client.publish(message.topic, message.payload, { qos: message.qos, retain: message.retain ?? false, properties }, (err) => {
        if (!this.pending.delete(fail)) return;
        if (!err) resolve();
        else if (isRefusal(err)) reject(this.refusal(message.topic, `the broker refused it: ${err.message}`, err));
        else reject(new EdgeError("E_PUBLISH", errorMessage(err), { cause: err }));
      });
    });
  }

  async subscribe(filter: string, handler: (message: IncomingMessage) => void): Promise<void> {
    this.subscriptions.push({ filter, handler });
    if (this.client?.connected) await this.client.subscribeAsync(filter, this.subscribeOptions());
  }

  onConnect(listener: () => void): void {
    this.connectListeners.push(listener);
  }

  onProblem(listener: (problem: PublishProblem) => void): void {
    this.problemListeners.push(listener);
  }

  async close(withinMs = CLOSE_MS): Promise<void> {
    this.closing = true;
    const client = this.client;
    if (!client) return;
    const clean = async () => {
      // A clean stop says so; the Last Will is only for when we vanish.
      await client.publishAsync(this.o.statusTopic, this.o.offlinePayload(), { qos: 1, retain: true }).catch(() => undefined);
      // Unacknowledged defects stay in the outbox for the next start; end() would wait for them.
      this.dropUnacknowledged(client);
      await client.endAsync();
    };
    // Offline, mqtt.js would queue the DISCONNECT until a reconnect that never comes.
    const inTime = client.connected && (await Promise.race([clean().then(() => true), sleepUnref(withinMs).then(() => false)]));
    if (!inTime) {
      if (client.connected) this.log.warn(`broker did not complete a clean disconnect within ${withinMs} ms: dropping the connection`);
      this.dropUnacknowledged(client);
      // A socket that is already gone emits no second 'close' for end() to wait on.
      await Promise.race([new Promise<void>((r) => client.end(true, () => r())), sleepUnref(FORCED_END_MS)]);
    }
    this.failPending(new EdgeError("E_PUBLISH_CLOSED", "publisher closed"));
  }

  private readTls(): IClientOptions {
    return readTlsFiles(this.o);
  }

  private open(tls: IClientOptions): MqttClient {
    const client = mqtt.connect(this.o.url, {
      ...tls,
      clientId: this.o.clientId,
      username: this.o.username,
      password: this.o.password,
      protocolVersion: this.version,
      ...(this.version === 5 && { properties: { maximumPacketSize: this.o.maxIncomingPacketBytes, receiveMaximum: RECEIVE_MAXIMUM } }),
      keepalive: this.o.keepaliveS,
      reconnectPeriod: this.o.reconnectMs,
      connectTimeout: this.o.connectTimeoutMs,
      clean: true,
      resubscribe: false,
      queueQoSZero: false,
      will: { topic: this.o.statusTopic, payload: Buffer.from(this.o.offlinePayload()), qos: 1, retain: true },
    });
    client.on("connect", (connack) => {
      this.everConnected = true;
      this.brokerMaxPacket = connack.properties?.maximumPacketSize;
      this.lastError = undefined;
      this.log.info({ url: this.o.url, protocol: this.version === 5 ? "5" : "3.1.1" }, "connected to the broker");
      client.publish(this.o.statusTopic, this.o.onlinePayload(), { qos: 1, retain: true });
      for (const s of this.subscriptions) client.subscribe(s.filter, this.subscribeOptions());
      for (const l of this.connectListeners) l();
    });
    client.on("message", (topic, payload, packet) => this.dispatch(topic, payload, packet.retain, packet.properties));
    client.on("close", () => {
      this.failPending(new EdgeError("E_PUBLISH_LINK", "connection to the broker lost"));
      this.dropUnacknowledged(client);
    });
    client.on("disconnect", (packet) => {
      const rc = packet.reasonCode ?? 0;
      this.disconnects++;
      const why = packet.properties?.reasonString ? `: ${packet.properties.reasonString}` : "";
      this.problem({ code: `E_MQTT_DISCONNECT_${rc}`, message: `the broker disconnected the station (reason 0x${rc.toString(16)}${why})` });
    });
    client.on("error", (err) => this.onError(client, err as Error & { code?: number | string }));
    return client;
  }

  private onError(client: MqttClient, err: Error & { code?: number | string }): void {
    const code = typeof err.code === "number" ? `E_MQTT_CONNACK_${err.code}` : String(err.code ?? "E_MQTT");
    if (this.lastError?.code !== code) this.log.warn({ code, url: this.o.url }, `broker: ${err.message}`);
    this.lastError = { code, message: err.message };
    if (!this.everConnected && this.version === 5 && this.o.protocol === "auto" && typeof err.code === "number" && UNSUPPORTED_PROTOCOL.has(err.code)) {
      this.log.info("broker refuses MQTT 5: falling back to 3.1.1");
      this.version = 4;
      client.removeAllListeners();
      client.on("error", () => undefined);
      client.end(true);
      if (!this.closing) this.client = this.open(this.readTls());
    }
  }

  private dispatch(
    topic: string,
    payload: Buffer,
    retain: boolean,
    props: { responseTopic?: string; correlationData?: Buffer; userProperties?: Record<string, string | string[]>; contentType?: string } | undefined,
  ): void {
    const m: IncomingMessage = {
      topic,
      payload,
      retain,
      userProperties: props?.userProperties ?? {},
      responseTopic: props?.responseTopic,
      correlationData: props?.correlationData,
      contentType: props?.contentType,
    };
    for (const s of this.subscriptions) if (topicMatches(s.filter, topic)) s.handler(m);
  }

  /** MQTT 5: retain-as-published, so that a retained command sent while subscribed is seen as retained too. */
  private subscribeOptions(): { qos: 1; rap?: boolean } {
    return this.version === 5 ? { qos: 1, rap: true } : { qos: 1 };
  }

  /** Why the broker could only refuse this publish (and disconnect for it), or undefined. */
  private unsendable(message: OutgoingMessage): string | undefined {
    const topicProblem = topicNameProblem(message.topic, 65_535);
    if (topicProblem) return `topic ${topicProblem}`;
    const max = this.brokerMaxPacket;
    if (max === undefined) return undefined;
    const size = PUBLISH_OVERHEAD + Buffer.byteLength(message.topic) + Buffer.byteLength(message.payload) + (message.correlationData?.byteLength ?? 0);
    return size > max ? `a packet of about ${size} bytes exceeds the broker's maximum of ${max}` : undefined;
  }

  private refusal(topic: string, why: string, cause?: unknown): EdgeError {
    this.refused++;
    const err = new EdgeError(PUBLISH_REFUSED, `publish to '${topic.slice(0, 128)}' refused: ${why}`, { cause });
    this.problem({ code: PUBLISH_REFUSED, message: err.message });
    return err;
  }

  /**
   * Logged and passed on at most once a PROBLEM_INTERVAL_MS per code: the
   * alarm about a refusal is itself a publish, which may be refused too.
   */
  private problem(p: PublishProblem): void {
    const now = Date.now();
    if (now - (this.problemAt.get(p.code) ?? -Infinity) < PROBLEM_INTERVAL_MS) {
      this.log.debug({ code: p.code }, p.message);
      return;
    }
    this.problemAt.set(p.code, now);
    this.log.warn({ code: p.code }, p.message);
    for (const l of this.problemListeners) l(p);
  }

  /**
   * Forgets every publish awaiting its PUBACK. Their promises are already
   * rejected; a defect among them is still in the outbox.
   */
  private dropUnacknowledged(client: MqttClient): void {
    for (const id of Object.keys(client.outgoing)) client.removeOutgoingMessage(Number(id));
  }

  private failPending(err: Error): void {
    for (const fail of [...this.pending]) fail(err);
  }
}

/** The PEM files of an MQTT connection, read now: a missing file is E_PUBLISH_TLS at start, not a silent plain connection. */
export function readTlsFiles(o: { caFile?: string; certFile?: string; keyFile?: string }): IClientOptions {
  const read = (what: string, file: string | undefined) => {
    if (!file) return undefined;
    try {
      return readFileSync(file);
    } catch (err) {
      throw new EdgeError("E_PUBLISH_TLS", `cannot read MQTT ${what} file ${file}: ${(err as NodeJS.ErrnoException).code ?? errorMessage(err)}`);
    }
  };
  const ca = read("CA", o.caFile);
  const cert = read("certificate", o.certFile);
  const key = read("key", o.keyFile);
  if (Boolean(cert) !== Boolean(key)) throw new EdgeError("E_PUBLISH_TLS", "MQTT certificate and key must be given together");
  return { ...(ca && { ca }), ...(cert && { cert }), ...(key && { key }) };
}

function isRefusal(err: Error & { code?: unknown }): boolean {
  return typeof err.code === "number" && err.code >= 0x80 && !TRANSIENT_REASONS.has(err.code);
}
