import { test } from "node:test";
import assert from "node:assert/strict";
import { MqttPublisher } from "../../daemon/publish/mqtt-publisher.js";
import { topic } from "../../daemon/publish/topics.js";
import { sleep } from "../../daemon/util/clock.js";
import { errorCode } from "../../daemon/util/errors.js";
import { Mosquitto } from "../fakes/mosquitto.js";
import { quietLog } from "../fakes/quiet-log.js";
import { publisherOptions } from "../publish/publisher-options.js";
import { OPERATOR, attacker, connected, hostileStation, station, until } from "./mqtt-station.js";

test("a response topic of 'replies/#' (the mosquitto_pub from the issue, and its siblings) cuts nothing off: refused on the station's own reply topic, defects and commands keep flowing", async () => {
  const s = await hostileStation();
  const watch = await attacker(s.broker.url, "watch");
  const defects = new Set<string>();
  watch.on("message", (_t, p) => defects.add((JSON.parse(p.toString()) as { id: string }).id));
  await watch.subscribeAsync(topic(station, "defects"), { qos: 1 });
  try {
    await s.app.start();
    await connected(s.app);
    const pauseTopic = topic(station, "cmd/pause");
    // mosquitto_pub -V 5 -q 1 -t <station>/cmd/pause -D PUBLISH response-topic 'replies/#' -m '{}'
    await s.ctl.publishAsync(pauseTopic, "{}", { qos: 1, properties: { responseTopic: "replies/#" } });
    await until("the refusal on cmd/pause/reply", () => s.replies.some((r) => r.topic === topic(station, "cmd/pause/reply")));
    assert.equal(s.replies.at(-1)!.error?.code, "E_CMD_REPLY_TOPIC");
    for (const rt of ["replies/#", "#", "replies/+/x", "$SYS/x"]) {
      const r = await s.send("pause", "{}", { responseTopic: rt, userProperties: { from: OPERATOR } });
      assert.equal(r?.error?.code, "E_CMD_REPLY_TOPIC", rt);
      assert.equal(r?.topic, topic(station, "cmd/pause/reply"));
    }
    // Well past a reconnect period: the station never lost its session.
    await sleep(500);
    assert.equal(s.app.publisher.connected(), true);
    assert.equal((s.app.publisher as MqttPublisher).disconnects, 0);
    assert.equal(s.app.pipeline.paused, false, "refused, so nothing acted");
    // It still answers, and defects still arrive.
    const ok = await s.send("pause", "{}", { userProperties: { from: OPERATOR } });
    assert.equal(ok?.ok, true);
    const n = defects.size;
    await s.send("resume", "{}", { userProperties: { from: OPERATOR } });
    await until("new defects after the attack", () => defects.size > n);
  } finally {
    await watch.endAsync(true);
    await s.close();
  }
});

test("a publish the broker disconnects for is not resent on reconnect; one over the broker's maximum packet size is refused unsent", async () => {
  // Mosquitto with a packet limit: in MQTT 5 it says so in CONNACK; in 3.1.1 it just disconnects.
  const broker = await Mosquitto.start({ conf: ["max_packet_size 4096"] });
  const watch = await attacker(broker.url, "watch-big");
  const got: string[] = [];
  watch.on("message", (t) => got.push(t));
  await watch.subscribeAsync("t/#", { qos: 1 });
  for (const protocol of ["5", "3.1.1"] as const) {
    const p = new MqttPublisher(publisherOptions(broker.url, station, `cam-${protocol}`, { protocol }), quietLog());
    const problems: string[] = [];
    p.onProblem((x) => problems.push(x.code));
    let connects = 0;
    p.onConnect(() => connects++);
    try {
      await p.connect();
      await until("connected", () => p.connected());
      const big = p.publish({ id: "", topic: `t/${protocol}/big`, payload: "x".repeat(10_000), qos: 1 });
      const code = await big.then(() => "acknowledged", (err: unknown) => errorCode(err));
      if (protocol === "5") {
        assert.equal(code, "E_PUBLISH_REFUSED");
        assert.deepEqual(problems, ["E_PUBLISH_REFUSED"]);
        assert.equal(p.connected(), true, "never sent, so never disconnected");
      } else {
        assert.equal(code, "E_PUBLISH_LINK");
        // The link comes back once and stays up: mqtt.js does not resend the packet it was dropped for.
        await until("reconnected", () => connects === 2);
        await sleep(1000);
        assert.equal(connects, 2);
        assert.equal(p.connected(), true);
      }
      await p.publish({ id: "", topic: `t/${protocol}/small`, payload: "ok", qos: 1 });
      await until("the small one delivered", () => got.includes(`t/${protocol}/small`));
      assert.equal(got.includes(`t/${protocol}/big`), false);
    } finally {
      await p.close();
    }
  }
  await watch.endAsync(true);
  await broker.close();
});
