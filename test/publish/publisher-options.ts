import type { MqttPublisherOptions } from "../../daemon/publish/mqtt-publisher.js";
import { topic, type StationId } from "../../daemon/publish/topics.js";

/** Publisher options for a test broker: quick reconnects, plain status payloads. */
export function publisherOptions(url: string, station: StationId, clientId: string, over: Partial<MqttPublisherOptions> = {}): MqttPublisherOptions {
  return {
    url,
    clientId,
    keepaliveS: 5,
    reconnectMs: 100,
    connectTimeoutMs: 2000,
    protocol: "auto",
    statusTopic: topic(station, "status"),
    onlinePayload: () => JSON.stringify({ state: "online" }),
    offlinePayload: () => JSON.stringify({ state: "offline" }),
    maxIncomingPacketBytes: 8192,
    ...over,
  };
}
