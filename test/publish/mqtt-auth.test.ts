import { test } from "node:test";
import assert from "node:assert/strict";
import { MqttPublisher } from "../../daemon/publish/mqtt-publisher.js";
import { mqttPublisherOptions } from "../../daemon/publish/mqtt-options.js";
import { sleep } from "../../daemon/util/clock.js";
import { BASE_YAML, lineConfig } from "../fakes/line.js";
import { parseConfigText } from "../../daemon/config/load.js";
import { quietLog } from "../fakes/quiet-log.js";
import { Mosquitto } from "../fakes/mosquitto.js";
import { publisherOptions } from "./publisher-options.js";

const station = { site: "plant", line: "l1", device: "cam1" };

async function outcome(p: MqttPublisher): Promise<"connected" | string> {
  const end = Date.now() + 5000;
  while (Date.now() < end) {
    if (p.connected()) return "connected";
    if (p.lastError) return p.lastError.code;
    await sleep(20);
  }
  return "timeout";
}

test("TLS with a client certificate and a password from a secret: accepted; anonymous and wrong passwords refused", async () => {
  const broker = await Mosquitto.start({ tls: true, users: { station1: "s3cret" } });
  const tls = broker.tlsFiles!;
  try {
    const yaml = `${BASE_YAML}
publish:
  type: mqtt
  url: ${broker.url}
  username: station1
  password: env:MQTT_PASSWORD
  tls: { ca: ${tls.ca}, cert: ${tls.cert}, key: ${tls.key} }
`;
    const config = parseConfigText("t.yaml", yaml, { MQTT_PASSWORD: "s3cret" });
    assert.equal(config.publish.type, "mqtt");
    const good = new MqttPublisher(mqttPublisherOptions(config, config.publish as Extract<typeof config.publish, { type: "mqtt" }>), quietLog());
    await good.connect();
    assert.equal(await outcome(good), "connected");
    await good.publish({ id: "x", topic: "edge-inspect/plant/l1/cam1/defects", payload: "{}", qos: 1 });
    await good.close();

    const files = { caFile: tls.ca, certFile: tls.cert, keyFile: tls.key };
    const anonymous = new MqttPublisher(publisherOptions(broker.url, station, "anon", files), quietLog());
    await anonymous.connect();
    assert.match(await outcome(anonymous), /^E_MQTT_CONNACK_(5|135)$/);
    await anonymous.close();

    const wrong = new MqttPublisher(publisherOptions(broker.url, station, "wrong", { ...files, username: "station1", password: "guess" }), quietLog());
    await wrong.connect();
    assert.match(await outcome(wrong), /^E_MQTT_CONNACK_(4|5|134|135)$/);
    await wrong.close();

    // Without the CA the broker's certificate is not trusted.
    const untrusted = new MqttPublisher(publisherOptions(broker.url, station, "untrusted", { username: "station1", password: "s3cret" }), quietLog());
    await untrusted.connect();
    assert.notEqual(await outcome(untrusted), "connected");
    await untrusted.close();

    const missing = new MqttPublisher(publisherOptions(broker.url, station, "missing", { caFile: "/nonexistent/ca.pem" }), quietLog());
    await assert.rejects(missing.connect(), (err: Error & { code?: string }) => err.code === "E_PUBLISH_TLS" && /ENOENT/.test(err.message));
  } finally {
    await broker.close();
  }
});

test("an mqtt publish config is checked: bad URL, cert without key", () => {
  assert.throws(() => lineConfig(`${BASE_YAML}\npublish: { type: mqtt, url: "http://x" }\n`), /publish.url: must be an mqtt/);
  assert.throws(() => lineConfig(`${BASE_YAML}\npublish: { type: mqtt, url: "mqtt://x", tls: { cert: /a.pem } }\n`), /cert and key must be given together/);
});
