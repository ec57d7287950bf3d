import type { Config } from "../config/schema.js";
import { EdgeError } from "../util/errors.js";
import type { MqttPublisherOptions } from "./mqtt-publisher.js";
import { statusPayload } from "./telemetry.js";
import { topic } from "./topics.js";

type MqttConfig = Extract<Config["publish"], { type: "mqtt" }>;

/** Room in a command's packet for its topic and properties (response topic, correlation data, user properties). */
export const COMMAND_PACKET_HEADROOM = 4096;

/** `password` arrives here already resolved from its secret reference (config/secrets.ts); `embedded`: the demo's broker, when publish.embedded_broker is set. */
export function mqttPublisherOptions(config: Config, m: MqttConfig, embedded?: { url(): string }): MqttPublisherOptions {
  const s = config.station;
  const url = m.url;
  if (url === undefined && !embedded) throw new EdgeError("E_CONFIG", "publish.url: required without publish.embedded_broker");
  return {
    // Read on connect: the embedded broker's port is known once it is started.
    get url() {
      return url ?? embedded!.url();
    },
    clientId: m.client_id ?? `edge-inspect-${s.site}-${s.line}-${s.device}`,
    username: m.username,
    password: m.password,
    caFile: m.tls?.ca,
    certFile: m.tls?.cert,
    keyFile: m.tls?.key,
    keepaliveS: m.keepalive_s,
    reconnectMs: m.reconnect_ms,
    connectTimeoutMs: m.connect_timeout_ms,
    protocol: m.protocol,
    statusTopic: topic(s, "status"),
    onlinePayload: () => statusPayload("online"),
    offlinePayload: () => statusPayload("offline"),
    maxIncomingPacketBytes: m.commands.max_payload_bytes + COMMAND_PACKET_HEADROOM,
  };
}
