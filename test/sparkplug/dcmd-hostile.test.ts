import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mqtt from "mqtt";
import { App } from "../../daemon/app.js";
import { sleep } from "../../daemon/util/clock.js";
import { BASE_YAML, lineConfig } from "../fakes/line.js";
import { Mosquitto } from "../fakes/mosquitto.js";
import { quietLog } from "../fakes/quiet-log.js";
import { encode, type HostMetric } from "./host-application.js";

const DCMD = "spBv1.0/plant/DCMD/cam1/l1";
const from = (who: string): HostMetric => ({ name: "Command/From", datatype: 12, stringValue: who });
const threshold = (value: number, cls?: string): HostMetric => ({ name: `Thresholds/${cls ?? "Default"}`, datatype: 10, doubleValue: value });

/**
 * Hostile DCMDs over a real Mosquitto: each is refused with the JSON
 * commands' code and counted in the same books, and none changes the line
 * (tck-id-operational-behavior-data-commands-dcmd-metric-value: a value the
 * metric cannot take is not written).
 */
test("hostile DCMDs: not Sparkplug, retained, too large, not writable, out of range, unknown class, no or two identities: each refused with its code, counted, nothing changes; a flood of rebirth requests costs a birth a second", async () => {
  const broker = await Mosquitto.start();
  const dir = mkdtempSync(join(tmpdir(), "ei-dcmd-"));
  const app = new App(
    lineConfig(`${BASE_YAML}
station: { site: plant, line: l1, device: cam1 }
data_dir: ${dir}
publish:
  type: mqtt
  url: ${broker.url}
  reconnect_ms: 100
  commands: { allow: [operator-1], max_payload_bytes: 1024, rate: { per_s: 10000, burst: 10000 }, rates: { set-threshold: { per_s: 10000, burst: 10000 }, pause: { per_s: 10000, burst: 10000 } } }
  sparkplug: { data_interval_ms: 200 }
`),
    quietLog(),
  );
  const ctl = await mqtt.connectAsync(broker.url, { clientId: "hostile-host", protocolVersion: 5 });
  try {
    await app.start();
    const until = async (what: string, cond: () => boolean) => {
      const end = Date.now() + 60_000;
      while (!cond()) {
        if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
        await sleep(10);
      }
    };
    await until("the node born", () => app.sparkplug!.node.connected());
    const settings = () => JSON.stringify({ d: app.pipeline.decideSettings, paused: app.pipeline.paused });
    const before = settings();
    const counts = app.commands.counts;
    const cases: Array<[string, Buffer, { retain?: boolean; userProperties?: Record<string, string | string[]> }, string]> = [
      ["not a Sparkplug payload", Buffer.from([0xff, 0xff, 0xff, 0x0f, 0x12]), {}, "E_CMD_MALFORMED"],
      ["retained", encode({ metrics: [threshold(0.2), from("operator-1")] }), { retain: true }, "E_CMD_RETAINED"],
      ["too large", encode({ metrics: [threshold(0.2), from("operator-1"), { name: "pad", datatype: 12, stringValue: "x".repeat(2000) }] }), {}, "E_CMD_TOO_LARGE"],
      ["a metric that is not writable", encode({ metrics: [{ name: "Parts/Triggered", datatype: 8, longValue: 0 }, from("operator-1")] }), {}, "E_CMD_UNKNOWN"],
      ["a threshold out of range", encode({ metrics: [threshold(1.5), from("operator-1")] }), {}, "E_CMD_INVALID"],
      ["a class the model lacks", encode({ metrics: [threshold(0.5, "rust"), from("operator-1")] }), {}, "E_CMD_INVALID"],
      ["Control/Paused not a boolean", encode({ metrics: [{ name: "Control/Paused", datatype: 12, stringValue: "yes" }, from("operator-1")] }), {}, "E_CMD_INVALID"],
      ["no identity", encode({ metrics: [threshold(0.2)] }), {}, "E_CMD_UNAUTHORISED"],
      ["an identity not allowed", encode({ metrics: [threshold(0.2), from("intruder")] }), {}, "E_CMD_UNAUTHORISED"],
      ["two identities that differ", encode({ metrics: [threshold(0.2), from("operator-1")] }), { userProperties: { from: "intruder" } }, "E_CMD_UNAUTHORISED"],
    ];
    // A DCMD for a device the node does not have is ignored, not counted: the next case shows it was passed over.
    await ctl.publishAsync("spBv1.0/plant/DCMD/cam1/l9", encode({ metrics: [threshold(0.2), from("operator-1")] }), { qos: 0 });
    for (const [what, payload, o, code] of cases) {
      const refused = counts.refused;
      const byCode = counts.refusedByCode[code] ?? 0;
      await ctl.publishAsync(DCMD, payload, { qos: 0, retain: o.retain ?? false, properties: o.userProperties ? { userProperties: o.userProperties } : undefined });
      await until(`${what} refused`, () => counts.refused > refused);
      assert.equal(counts.refused, refused + 1, `${what}: one refusal`);
      assert.equal(counts.refusedByCode[code], byCode + 1, `${what}: ${code}`);
      assert.equal(settings(), before, `${what} changes nothing`);
      if (o.retain) await ctl.publishAsync(DCMD, "", { qos: 0, retain: true });
    }
    assert.equal(counts.accepted, 0);
    // The identity as an MQTT 5 user property: taken.
    await ctl.publishAsync(DCMD, encode({ metrics: [threshold(0.66, "crack")] }), { qos: 0, properties: { userProperties: { from: "operator-1" } } });
    await until("the write taken", () => counts.accepted === 1);
    assert.equal(app.pipeline.decideSettings.thresholds.crack, 0.66);
    // A Float write (what Ignition sends for a Float tag) is taken at its 7 digits: 0.7, not 0.699999988.
    await ctl.publishAsync(DCMD, encode({ metrics: [{ name: "Thresholds/Default", datatype: 9, floatValue: 0.7 }, from("operator-1")] }), { qos: 0 });
    await until("the Float write taken", () => counts.accepted === 2);
    assert.equal(app.pipeline.decideSettings.threshold, 0.7);

    // A flood of rebirth requests: answered, at a bounded cost (a few at once, then one a second).
    const node = app.sparkplug!.node;
    const births = node.counts.births;
    const rebirth = encode({ timestamp: Date.now(), metrics: [{ name: "Node Control/Rebirth", datatype: 11, booleanValue: true }] });
    const t0 = Date.now();
    await Promise.all(Array.from({ length: 200 }, () => ctl.publishAsync("spBv1.0/plant/NCMD/cam1", rebirth, { qos: 0 })));
    await until("the flood's requests counted", () => node.counts.rebirthRequests === 200);
    await sleep(1500);
    const elapsedS = (Date.now() - t0) / 1000;
    const answered = node.counts.births - births;
    assert.ok(answered >= 1, "the requests were answered");
    assert.ok(answered <= 3 + Math.ceil(elapsedS) + 1, `${answered} births for 200 requests in ${elapsedS} s`);
    assert.equal(app.tracker.checkInvariant(), true);
  } finally {
    await app.stop("test done").catch(() => undefined);
    await ctl.endAsync(true);
    await broker.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
