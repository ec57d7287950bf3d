/**
 * An MQTT 5 client in a process of its own, so that a test's attacker costs
 * the station's process nothing (no event-loop time, no memory):
 *   node mqtt-client-process.js pub <url> <json: [{ topic, payload | pad, count, qos, retain, properties }]>
 *   node mqtt-client-process.js sub <url> <topic>   (prints the byte count of the first message, then exits)
 * `pad`: the payload is {"from":"operator-1","pad":"xxx..."} with that many x.
 */
import mqtt from "mqtt";

interface Batch {
  topic: string;
  payload?: string;
  pad?: number;
  count?: number;
  qos?: 0 | 1 | 2;
  retain?: boolean;
  properties?: Record<string, unknown>;
}

const [mode, url, arg] = process.argv.slice(2) as [string, string, string];
const client = await mqtt.connectAsync(url, { protocolVersion: 5, clientId: `${mode}-${process.pid}`, reconnectPeriod: 0 });
if (mode === "sub") {
  client.on("message", (_t, payload) => {
    process.stdout.write(`${payload.byteLength}\n`);
    void client.endAsync(true).then(() => process.exit(0));
  });
  await client.subscribeAsync(arg, { qos: 1 });
  process.stdout.write("subscribed\n");
} else {
  for (const b of JSON.parse(arg) as Batch[]) {
    const payload = b.pad === undefined ? (b.payload ?? "") : `{"from":"operator-1","pad":"${"x".repeat(b.pad)}"}`;
    const sent: Array<Promise<unknown>> = [];
    for (let i = 0; i < (b.count ?? 1); i++) {
      sent.push(client.publishAsync(b.topic, payload, { qos: b.qos ?? 1, retain: b.retain ?? false, properties: b.properties as mqtt.IClientPublishOptions["properties"] }));
    }
    await Promise.all(sent);
  }
  await client.endAsync();
  process.stdout.write("sent\n");
}
