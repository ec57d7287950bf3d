import { test } from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import mqtt from "mqtt";
import { MemoryStore } from "../../daemon/records/memory-store.js";
import { MqttPublisher } from "../../daemon/publish/mqtt-publisher.js";
import { OutboxDrainer } from "../../daemon/publish/outbox-drainer.js";
import { defectMessage } from "../../daemon/publish/messages.js";
import { sleep } from "../../daemon/util/clock.js";
import { Mosquitto } from "../fakes/mosquitto.js";
import { quietLog } from "../fakes/quiet-log.js";
import { settledPart } from "../records/parts.js";
import { publisherOptions } from "./publisher-options.js";

const ACL = fileURLToPath(new URL("../../../examples/mosquitto/acl", import.meta.url));
const station = { site: "site", line: "line1", device: "station1" };

test("a message the broker refuses for good (PUBACK 0x87) is taken out of the outbox, alarmed once, and every message behind it is delivered", async () => {
  const users = { station1: "pw-1", historian: "pw-h" };
  const broker = await Mosquitto.start({ users, conf: [`acl_file ${ACL}`, "max_queued_messages 1000"] });
  const historian = await mqtt.connectAsync(broker.url, { clientId: "historian", username: "historian", password: users.historian, protocolVersion: 5 });
  const got: string[] = [];
  historian.on("message", (_t, p) => got.push((JSON.parse(p.toString()) as { id: string }).id));
  await historian.subscribeAsync("edge-inspect/site/line1/+/defects", { qos: 1 });
  const store = new MemoryStore(10);
  await store.open();
  const publisher = new MqttPublisher(publisherOptions(broker.url, station, "station1", { username: "station1", password: users.station1 }), quietLog());
  const problems: string[] = [];
  publisher.onProblem((p) => problems.push(p.code));
  const drainer = new OutboxDrainer(store, publisher, 4, quietLog());
  try {
    await publisher.connect();
    drainer.start();
    const ids: string[] = [];
    for (let i = 1; i <= 40; i++) {
      const m = defectMessage(station, store.runId, settledPart(i, "rejected"));
      // Every tenth one into another station's tree, which the ACL closes to this station.
      if (i % 10 === 0) m.topic = "edge-inspect/site/line1/station2/defects";
      else ids.push(m.id);
      store.record(settledPart(i, "rejected"), [m]);
    }
    const end = Date.now() + 30_000;
    while ((store.stats().outbox > 0 || got.length < ids.length) && Date.now() < end) await sleep(20);
    assert.deepEqual([...got].sort(), [...ids].sort());
    assert.equal(store.stats().outbox, 0);
    assert.equal(drainer.refused, 4);
    assert.deepEqual(problems, ["E_PUBLISH_REFUSED"], "raised once, counted every time");
    assert.equal(publisher.refused, 4);
    assert.equal(publisher.connected(), true);
  } finally {
    drainer.stop();
    await publisher.close();
    await historian.endAsync(true);
    await broker.close();
  }
});
