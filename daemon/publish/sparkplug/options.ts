import { join, resolve } from "node:path";
import type { Config } from "../../config/schema.js";
import { mqttPublisherOptions } from "../mqtt-options.js";
import { readTlsFiles } from "../mqtt-publisher.js";
import { BdSeqFile } from "./bdseq-file.js";
import type { EdgeNodeOptions } from "./edge-node.js";
import type { EdgeNodeId } from "./topics.js";

type MqttConfig = Extract<Config["publish"], { type: "mqtt" }>;
export type SparkplugConfig = NonNullable<MqttConfig["sparkplug"]>;

/** The station's Sparkplug ids: group = site, edge node = device, unless configured. */
export function edgeNodeId(config: Config, s: SparkplugConfig): EdgeNodeId {
  return { groupId: s.group_id ?? config.station.site, edgeNodeId: s.edge_node_id ?? config.station.device };
}

/** The node's own connection: the JSON publisher's broker and credentials, a client id of its own. */
export function edgeNodeOptions(config: Config, m: MqttConfig, s: SparkplugConfig, embedded?: { url(): string }): EdgeNodeOptions {
  const json = mqttPublisherOptions(config, m, embedded);
  return {
    id: edgeNodeId(config, s),
    primaryHostId: s.primary_host_id,
    dataIntervalMs: s.data_interval_ms,
    replayWindowMs: s.replay_window_s * 1000,
    get url() {
      return json.url;
    },
    clientId: `${json.clientId}-spb`,
    username: json.username,
    password: json.password,
    tls: readTlsFiles(json),
    keepaliveS: json.keepaliveS,
    reconnectMs: json.reconnectMs,
    connectTimeoutMs: json.connectTimeoutMs,
    protocol: json.protocol,
    bdSeq: new BdSeqFile(join(resolve(config.data_dir), "sparkplug-bdseq")),
    maxCommandBytes: m.commands.max_payload_bytes,
    maxIncomingPacketBytes: json.maxIncomingPacketBytes,
  };
}
