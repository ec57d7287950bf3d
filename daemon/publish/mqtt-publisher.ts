import { readFileSync } from "node:fs";
import mqtt, { type IClientOptions, type MqttClient } from "mqtt";
import { EdgeError, errorMessage } from "../util/errors.js";
import type { Logger } from "../util/log.js";
import { topicMatches, type IncomingMessage, type OutgoingMessage, type Publisher } from "./publisher.js";

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
}

/** CONNACK codes meaning "this broker does not speak MQTT 5" (3.1.1 code 1, MQTT 5 reason 0x84). */
const UNSUPPORTED_PROTOCOL = new Set([1, 132]);

/**
 * The plant's broker over mqtt.js. QoS 1 publishes settle on PUBACK; when the
 * link drops, every unsettled publish is rejected at once so the outbox
 * drainer resends from the database: nothing is left to mqtt.js's in-memory
 * queue, which a restart would lose.
 */
export class MqttPublisher implements Publisher {
  readonly kind = "mqtt";
  private client: MqttClient | undefined;
  private version: 5 | 4;
  private everConnected = false;
  private readonly pending = new Set<(err: Error) => void>();
  private readonly connectListeners: Array<() => void> = [];
  private readonly subscriptions: Array<{ filter: string; handler: (m: IncomingMessage) => void }> = [];
  private closing = false;
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
    return new Promise((resolve, reject) => {
      const fail = (err: Error) => {
        this.pending.delete(fail);
        reject(err);
      };
      this.pending.add(fail);
      const properties = this.version === 5 && message.correlationData ? { correlationData: message.correlationData } : undefined;
      client.publish(message.topic, message.payload, { qos: message.qos, retain: message.retain ?? false, properties }, (err) => {
        if (!this.pending.delete(fail)) return;
        if (err) reject(new EdgeError("E_PUBLISH", errorMessage(err), { cause: err }));
        else resolve();
      });
    });
  }

  async subscribe(filter: string, handler: (message: IncomingMessage) => void): Promise<void> {
    this.subscriptions.push({ filter, handler });
    if (this.client?.connected) await this.client.subscribeAsync(filter, { qos: 1 });
  }

  onConnect(listener: () => void): void {
    this.connectListeners.push(listener);
  }

  async close(): Promise<void> {
    this.closing = true;
    const client = this.client;
    if (!client) return;
    if (client.connected) {
      // A clean stop says so; the Last Will is only for when we vanish.
      await client.publishAsync(this.o.statusTopic, this.o.offlinePayload(), { qos: 1, retain: true }).catch(() => undefined);
    }
    await client.endAsync();
    this.failPending(new EdgeError("E_PUBLISH_CLOSED", "publisher closed"));
  }

  private readTls(): IClientOptions {
    const read = (what: string, file: string | undefined) => {
      if (!file) return undefined;
      try {
        return readFileSync(file);
      } catch (err) {
        throw new EdgeError("E_PUBLISH_TLS", `cannot read MQTT ${what} file ${file}: ${(err as NodeJS.ErrnoException).code ?? errorMessage(err)}`);
      }
    };
    const ca = read("CA", this.o.caFile);
    const cert = read("certificate", this.o.certFile);
    const key = read("key", this.o.keyFile);
    if (Boolean(cert) !== Boolean(key)) throw new EdgeError("E_PUBLISH_TLS", "MQTT certificate and key must be given together");
    return { ...(ca && { ca }), ...(cert && { cert }), ...(key && { key }) };
  }

  private open(tls: IClientOptions): MqttClient {
    const client = mqtt.connect(this.o.url, {
      ...tls,
      clientId: this.o.clientId,
      username: this.o.username,
      password: this.o.password,
      protocolVersion: this.version,
      keepalive: this.o.keepaliveS,
      reconnectPeriod: this.o.reconnectMs,
      connectTimeout: this.o.connectTimeoutMs,
      clean: true,
      resubscribe: false,
      queueQoSZero: false,
      will: { topic: this.o.statusTopic, payload: Buffer.from(this.o.offlinePayload()), qos: 1, retain: true },
    });
    client.on("connect", () => {
      this.everConnected = true;
      this.lastError = undefined;
      this.log.info({ url: this.o.url, protocol: this.version === 5 ? "5" : "3.1.1" }, "connected to the broker");
      client.publish(this.o.statusTopic, this.o.onlinePayload(), { qos: 1, retain: true });
      for (const s of this.subscriptions) client.subscribe(s.filter, { qos: 1 });
      for (const l of this.connectListeners) l();
    });
    client.on("message", (topic, payload, packet) => this.dispatch(topic, payload, packet.properties));
    client.on("close", () => this.failPending(new EdgeError("E_PUBLISH_LINK", "connection to the broker lost")));
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

  private dispatch(topic: string, payload: Buffer, props: { responseTopic?: string; correlationData?: Buffer; userProperties?: Record<string, string | string[]> } | undefined): void {
    const userProperties: Record<string, string> = {};
    for (const [k, v] of Object.entries(props?.userProperties ?? {})) userProperties[k] = Array.isArray(v) ? v.join(",") : v;
    const m: IncomingMessage = { topic, payload, userProperties, responseTopic: props?.responseTopic, correlationData: props?.correlationData };
    for (const s of this.subscriptions) if (topicMatches(s.filter, topic)) s.handler(m);
  }

  private failPending(err: Error): void {
    for (const fail of [...this.pending]) fail(err);
  }
}
