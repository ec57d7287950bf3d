import { test } from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import mqtt from "mqtt";
import { App } from "../../daemon/app.js";
import { MqttPublisher } from "../../daemon/publish/mqtt-publisher.js";
import { parseConfigText } from "../../daemon/config/load.js";
import { sleep } from "../../daemon/util/clock.js";
import { BASE_YAML } from "../fakes/line.js";
import { Mosquitto } from "../fakes/mosquitto.js";
import { quietLog } from "../fakes/quiet-log.js";
import { until } from "./mqtt-station.js";
import { publisherOptions } from "../publish/publisher-options.js";

const ACL = fileURLToPath(new URL("../../../examples/mosquitto/acl", import.meta.url));
const users = { station1: "pw-s1", station2: "pw-s2", "line-supervisor": "pw-sup", historian: "pw-his" };
const own = "edge-inspect/site/line1/station1/";
const other = "edge-inspect/site/line1/station2/";

test("the example ACL on a real Mosquitto: the station publishes and answers commands; it cannot write into another station's tree; a refused reply costs it nothing", async () => {
  // As in examples/mosquitto/mosquitto.conf: a bounded queue (see the next test for why that matters here).
  const broker = await Mosquitto.start({ users, conf: [`acl_file ${ACL}`, "max_queued_messages 1000"] });
  const login = (username: keyof typeof users, clientId: string) =>
    mqtt.connectAsync(broker.url, { clientId, username, password: users[username], protocolVersion: 5, reconnectPeriod: 100 });
  // A misconfigured reply prefix lets a response topic into station2's tree through: the broker's ACL is what stops it.
  const yaml = `${BASE_YAML}
station: { site: site, line: line1, device: station1 }
publish:
  type: mqtt
  url: ${broker.url}
  username: station1
  password: env:MQTT_PASSWORD
  reconnect_ms: 100
  metrics_interval_s: 1
  commands: { allow: [line-supervisor], reply_prefixes: ["edge-inspect/site/line1/"] }
`;
  const app = new App(parseConfigText("t.yaml", yaml, { MQTT_PASSWORD: users.station1 }), quietLog());
  const historian = await login("historian", "historian");
  const supervisor = await login("line-supervisor", "supervisor");
  const seen: Array<[string, string]> = [];
  for (const c of [historian, supervisor]) c.on("message", (t, p) => seen.push([t, p.toString()]));
  await historian.subscribeAsync(["edge-inspect/site/line1/+/defects", "edge-inspect/site/line1/+/alarms"], { qos: 1 });
  await supervisor.subscribeAsync(["edge-inspect/site/line1/+/cmd/+/reply", "edge-inspect/site/line1/+/replies/line-supervisor/#"], { qos: 1 });
  try {
    await app.start();
    await until("the station connected", () => app.publisher.connected());
    await until("a defect at the historian", () => seen.some(([t]) => t === `${own}defects`));

    // The supervisor commands; replies come back on the station's own reply topics.
    const cmd = (name: string, responseTopic?: string) =>
      supervisor.publishAsync(`${own}cmd/${name}`, "{}", { qos: 1, properties: { userProperties: { from: "line-supervisor" }, ...(responseTopic && { responseTopic }) } });
    await cmd("pause");
    await cmd("resume", `${own}replies/line-supervisor/1`);
    await until("both replies", () => seen.filter(([t]) => t === `${own}cmd/pause/reply` || t === `${own}replies/line-supervisor/1`).length === 2);
    assert.equal(app.pipeline.paused, false);

    // A reply into station2's tree: the broker refuses it (PUBACK 0x87); counted, alarmed, the station stays online.
    await cmd("resume", `${other}replies/line-supervisor/x`);
    await until("the refusal counted", () => app.commands.counts.repliesDropped === 1);
    await until("the alarm at the historian", () => seen.some(([t, p]) => t === `${own}alarms` && p.includes("E_PUBLISH_REFUSED")));
    assert.equal(app.publisher.connected(), true);
    assert.equal((app.publisher as MqttPublisher).disconnects, 0);
    await cmd("pause");
    await until("the next command answered", () => seen.filter(([t]) => t === `${own}cmd/pause/reply`).length === 2);

    // With the station's own credentials, another station's tree is closed to writes.
    const s1 = await login("station1", "station1-raw");
    const watcher = await login("line-supervisor", "watcher");
    const leaked: string[] = [];
    watcher.on("message", (t) => leaked.push(t));
    await watcher.subscribeAsync([`${other}#`], { qos: 1 });
    for (const t of [`${other}status`, `${other}defects`, `${other}cmd/pause`, `${other}cmd/pause/reply`, `${other}replies/x`, "edge-inspect/site/line1/station1x/status"]) {
      await assert.rejects(s1.publishAsync(t, "{}", { qos: 1 }), (err: Error & { code?: number }) => err.code === 0x87, t);
    }
    // Nor may a station command itself, or a historian command anyone.
    await assert.rejects(s1.publishAsync(`${own}cmd/pause`, "{}", { qos: 1 }), (err: Error & { code?: number }) => err.code === 0x87);
    await assert.rejects(historian.publishAsync(`${own}cmd/pause`, "{}", { qos: 1 }), (err: Error & { code?: number }) => err.code === 0x87);
    await sleep(200);
    assert.deepEqual(leaked, []);
    await s1.endAsync(true);
    await watcher.endAsync(true);
  } finally {
    await app.stop("test done");
    await historian.endAsync(true);
    await supervisor.endAsync(true);
    await broker.close();
  }
});

test("a broker that drops the station after refusing its publish (Mosquitto 2.0.11 with max_queued_messages 0 does): one reconnection, the refused publish is never resent", async () => {
  const broker = await Mosquitto.start({ users, conf: [`acl_file ${ACL}`] });
  const p = new MqttPublisher(
    publisherOptions(broker.url, { site: "site", line: "line1", device: "station1" }, "station1", { username: "station1", password: users.station1 }),
    quietLog(),
  );
  const problems: string[] = [];
  p.onProblem((x) => problems.push(x.code));
  let connects = 0;
  p.onConnect(() => connects++);
  try {
    await p.connect();
    await until("connected", () => p.connected());
    await assert.rejects(p.publish({ id: "", topic: `${other}replies/x`, payload: "{}", qos: 1 }), (err: Error & { code?: string }) => err.code === "E_PUBLISH_REFUSED");
    assert.deepEqual(problems, ["E_PUBLISH_REFUSED"]);
    await until("reconnected", () => connects === 2 && p.connected());
    // mqtt.js would resend the refused publish on every reconnection, and be dropped each time.
    await sleep(1500);
    assert.equal(connects, 2);
    await p.publish({ id: "", topic: `${own}alarms`, payload: "{}", qos: 1 });
  } finally {
    await p.close();
    await broker.close();
  }
});
