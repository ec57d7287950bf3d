import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";
import { EdgeError } from "../../util/errors.js";
import type { Logger } from "../../util/log.js";
import { AedesBroker } from "./aedes-broker.js";
import { MosquittoBroker } from "./mosquitto-broker.js";

/** An MQTT broker the station starts for itself on loopback (the demo), so that any client can watch it. */
export interface EmbeddedBroker {
  readonly kind: "mosquitto" | "aedes";
  readonly port: number;
  close(): Promise<void>;
}

export interface EmbeddedBrokerSettings {
  /** 0: a free port. */
  port: number;
  implementation: "auto" | "mosquitto" | "aedes";
}

export const BROKER_HOST = "127.0.0.1";

/** The system's Mosquitto when installed (and asked for or left to choose), otherwise aedes in this process. */
export async function startEmbeddedBroker(s: EmbeddedBrokerSettings, dir: string, log: Logger): Promise<EmbeddedBroker> {
  const mosquitto = s.implementation === "aedes" ? undefined : findExecutable("mosquitto", ["/usr/sbin", "/usr/local/sbin"]);
  if (s.implementation === "mosquitto" && !mosquitto) {
    throw new EdgeError("E_BROKER_START", "publish.embedded_broker.implementation is mosquitto, but no mosquitto executable is installed (apt-get install mosquitto, or use aedes)");
  }
  const broker = mosquitto ? await MosquittoBroker.start(mosquitto, s.port, dir, log) : await AedesBroker.start(s.port, log);
  log.info({ broker: broker.kind, port: broker.port }, `embedded MQTT broker (${broker.kind}) on ${BROKER_HOST}:${broker.port}`);
  return broker;
}

/**
 * The demo's broker as the station starts and stops it, before and after
 * everything that connects to it; its address is known once it is started
 * (a free port is taken then).
 */
export class DemoBroker {
  private broker: EmbeddedBroker | undefined;

  constructor(
    private readonly settings: EmbeddedBrokerSettings,
    private readonly dir: string,
    private readonly log: Logger,
  ) {}

  async start(): Promise<void> {
    this.broker ??= await startEmbeddedBroker(this.settings, this.dir, this.log);
  }

  /** The port it listens on, once started. */
  get port(): number | undefined {
    return this.broker?.port;
  }

  /** The station's broker address; read when the station connects, after start(). */
  url(): string {
    if (!this.broker) throw new EdgeError("E_BROKER_START", "the embedded broker is not started");
    return brokerUrl(this.broker.port);
  }

  async close(): Promise<void> {
    await this.broker?.close();
    this.broker = undefined;
  }
}

/** What the station connects to: the embedded broker on loopback. */
export function brokerUrl(port: number): string {
  return `mqtt://${BROKER_HOST}:${port}`;
}

/** The `mosquitto_sub` line that watches the station's JSON topics on this broker. */
export function watchHint(port: number): string {
  return `watch it: mosquitto_sub -h ${BROKER_HOST} -p ${port} -t 'edge-inspect/#' -v`;
}

function findExecutable(name: string, extra: string[]): string | undefined {
  for (const dir of [...(process.env.PATH ?? "").split(delimiter), ...extra]) {
    if (!dir) continue;
    const p = join(dir, name);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // not here
    }
  }
  return undefined;
}
