import { execFile, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import mqtt, { type IClientPublishOptions, type MqttClient } from "mqtt";
import { App } from "../../daemon/app.js";
import { topic } from "../../daemon/publish/topics.js";
import { sleep } from "../../daemon/util/clock.js";
import { BASE_YAML, lineConfig } from "../fakes/line.js";
import { Mosquitto, type MosquittoOptions } from "../fakes/mosquitto.js";
import { quietLog } from "../fakes/quiet-log.js";

export const station = { site: "plant", line: "l1", device: "cam1" };
export const OPERATOR = "operator-1";

export interface Reply {
  ok: boolean;
  command: string;
  request_id?: string;
  result?: unknown;
  error?: { code: string; message: string };
  /** Where it came, and with which correlation data. */
  topic: string;
  correlation: Buffer | undefined;
}

export interface Send {
  /** Publish to this topic instead of cmd/<name>. */
  topic?: string;
  userProperties?: Record<string, string | string[]>;
  /** undefined: replies/ctl. */
  responseTopic?: string | null;
  /** undefined: a fresh key, matched to the reply. */
  correlationData?: Buffer | null;
  contentType?: string;
  qos?: 0 | 1 | 2;
  retain?: boolean;
  topicAlias?: number;
}

/** The station's MQTT section for a hostile test: the identity allowed, replies/ allowed as a reply prefix. */
export function mqttYaml(url: string, commands = ""): string {
  return `
station: { site: plant, line: l1, device: cam1 }
publish:
  type: mqtt
  url: ${url}
  reconnect_ms: 100
  metrics_interval_s: 1
  commands: { allow: [${OPERATOR}], max_payload_bytes: 1024, reply_prefixes: [replies/]${commands} }
`;
}

/** No rate limit in the way of a table of single hostile inputs (the flood test has the defaults). */
export const UNLIMITED = `, rate: { per_s: 10000, burst: 10000 }, rates: { pause: { per_s: 10000, burst: 10000 }, resume: { per_s: 10000, burst: 10000 }, set-threshold: { per_s: 10000, burst: 10000 }, swap-model: { per_s: 10000, burst: 10000 } }`;

/**
 * A running station on a real Mosquitto (simulated line, memory records),
 * and an attacker: an MQTT 5 client that can set every property of a
 * command and waits for its reply.
 */
export async function hostileStation(o: { commands?: string; yaml?: string; broker?: MosquittoOptions } = {}) {
  const broker = await Mosquitto.start(o.broker);
  const app = new App(lineConfig(`${BASE_YAML}${mqttYaml(broker.url, o.commands ?? "")}${o.yaml ?? ""}`), quietLog());
  const ctl = await attacker(broker.url, "attacker");
  const replies: Reply[] = [];
  ctl.on("message", (t, payload, packet) => {
    if (t === "replies/ctl" || t.endsWith("/reply") || t.startsWith(topic(station, "replies/"))) replies.push({ ...(JSON.parse(payload.toString()) as Reply), topic: t, correlation: packet.properties?.correlationData });
  });
  await ctl.subscribeAsync(["replies/ctl", topic(station, "cmd/+/reply"), topic(station, "replies/#")], { qos: 1 });
  let n = 0;

  /** Sends one command; resolves with its reply, or undefined when none came within `waitMs`. */
  const send = async (name: string, payload: string | Buffer, s: Send = {}, waitMs = 5000): Promise<Reply | undefined> => {
    const key = s.correlationData === undefined ? Buffer.from(`req-${++n}`) : s.correlationData;
    const properties: IClientPublishOptions["properties"] = {
      ...(s.responseTopic !== null && { responseTopic: s.responseTopic ?? "replies/ctl" }),
      ...(key && { correlationData: key }),
      ...(s.userProperties && { userProperties: s.userProperties }),
      ...(s.contentType !== undefined && { contentType: s.contentType }),
      ...(s.topicAlias !== undefined && { topicAlias: s.topicAlias }),
    };
    const from = replies.length;
    const published = ctl.publishAsync(s.topic ?? topic(station, `cmd/${name}`), payload, { qos: s.qos ?? 1, retain: s.retain ?? false, properties });
    // A publish the broker refuses by disconnecting the sender never settles.
    if (!(await Promise.race([published.then(() => true), sleep(waitMs).then(() => false)]))) throw new Error(`the broker did not take the publish to cmd/${name.slice(0, 40)}`);
    const matches = (r: Reply) => (key && key.byteLength <= 256 ? r.correlation?.equals(key) === true : r.correlation === undefined);
    const until = Date.now() + waitMs;
    while (Date.now() < until) {
      const r = replies.slice(from).find(matches);
      if (r) return r;
      await sleep(5);
    }
    return undefined;
  };

  const close = async () => {
    await app.stop("test done").catch(() => undefined);
    await ctl.endAsync(true);
    await broker.close();
  };
  return { broker, app, ctl, send, replies, close };
}

export async function attacker(url: string, clientId: string): Promise<MqttClient> {
  const c = await mqtt.connectAsync(url, { clientId, protocolVersion: 5, reconnectPeriod: 100 });
  c.on("error", () => undefined);
  return c;
}

export async function until(what: string, cond: () => boolean, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** The station is up, connected and subscribed (its `online` status is out). */
export async function connected(app: App): Promise<void> {
  await until("the station connected", () => app.publisher.connected());
  await sleep(200);
}

const CLIENT_PROCESS = fileURLToPath(new URL("./mqtt-client-process.js", import.meta.url));

export interface Batch {
  topic: string;
  payload?: string;
  /** A command payload padded to this many bytes. */
  pad?: number;
  count?: number;
  qos?: 0 | 1 | 2;
  properties?: Record<string, unknown>;
}

/** Publishes from another process; resolves once every message is acknowledged. */
export async function publishFromProcess(url: string, batches: Batch[]): Promise<void> {
  await promisify(execFile)(process.execPath, [CLIENT_PROCESS, "pub", url, JSON.stringify(batches)], { maxBuffer: 1 << 20 });
}

/** A subscriber in another process; `bytes` resolves with the size of the first message it receives. */
export async function subscriberProcess(url: string, filter: string): Promise<{ bytes: Promise<number>; kill: () => void }> {
  const child = spawn(process.execPath, [CLIENT_PROCESS, "sub", url, filter], { stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  const lines = new Promise<void>((resolve) => child.stdout!.on("data", (d: Buffer) => ((out += d.toString()), out.includes("subscribed") && resolve())));
  await lines;
  const bytes = new Promise<number>((resolve) => child.once("close", () => resolve(Number(out.split("\n")[1] ?? NaN))));
  return { bytes, kill: () => child.kill() };
}
