import mqtt from "mqtt";
import { topic, type StationId } from "../../daemon/publish/topics.js";
import { sleep } from "../../daemon/util/clock.js";

/** An operator's client: each request waits for its reply on the station's cmd/<name>/reply. */
export async function commander(url: string, clientId: string, station: StationId) {
  const ctl = await mqtt.connectAsync(url, { clientId, protocolVersion: 5 });
  await ctl.subscribeAsync(topic(station, "cmd/+/reply"), { qos: 1 });
  const replies: Array<Record<string, unknown>> = [];
  ctl.on("message", (_t, payload) => replies.push(JSON.parse(payload.toString()) as Record<string, unknown>));
  const request = async (name: string, body: Record<string, unknown>) => {
    const n = replies.length;
    await ctl.publishAsync(topic(station, `cmd/${name}`), JSON.stringify({ from: "operator-1", ...body }), { qos: 1 });
    while (replies.length === n) await sleep(20);
    return replies[n]!;
  };
  return { ctl, request };
}
