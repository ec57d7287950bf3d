import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import mqtt from "mqtt";
import { App } from "../../daemon/app.js";
import { parseConfigText } from "../../daemon/config/load.js";
import { topic } from "../../daemon/publish/topics.js";
import { sleep } from "../../daemon/util/clock.js";
import { quietLog } from "../fakes/quiet-log.js";
import { Mosquitto } from "../fakes/mosquitto.js";

const station = { site: "plant", line: "l1", device: "cam1" };
const PACKAGE = fileURLToPath(new URL("../../../test/fixtures/models/tiny-classifier", import.meta.url));

function yaml(url: string, dir: string, extra = ""): string {
  return `station: { site: plant, line: l1, device: cam1 }
data_dir: ${dir}
line: { mode: free-run, travel_ms: 300 }
camera: { type: synthetic, width: 320, height: 240, fps: 20 }
engine: { type: onnx, package: ${PACKAGE}, threads: { intra_op: 1 } }
records: { type: sqlite }
http: { enabled: false }
actuation: { window_ms: 100 }
publish: { type: mqtt, url: ${url}, reconnect_ms: 100, commands: { allow: [operator-1], rates: { reload-config: { per_s: 100, burst: 10 }, swap-model: { per_s: 100, burst: 10 } } } }
${extra}`;
}

test("snapshot, reload-config and swap-model commands act on the running station; a path from the network is refused", async () => {
  const broker = await Mosquitto.start();
  const dir = mkdtempSync(join(tmpdir(), "ei-cmd-"));
  let file = yaml(broker.url, dir);
  const app = new App(parseConfigText("t.yaml", file, {}), quietLog());
  app.configSource = () => parseConfigText("t.yaml", file, {});
  const ctl = await mqtt.connectAsync(broker.url, { clientId: "ctl", protocolVersion: 5 });
  await ctl.subscribeAsync(topic(station, "cmd/+/reply"), { qos: 1 });
  const replies: Array<Record<string, unknown>> = [];
  ctl.on("message", (_t, payload) => replies.push(JSON.parse(payload.toString()) as Record<string, unknown>));
  const request = async (name: string, body: Record<string, unknown>) => {
    const n = replies.length;
    await ctl.publishAsync(topic(station, `cmd/${name}`), JSON.stringify({ from: "operator-1", ...body }), { qos: 1 });
    while (replies.length === n) await sleep(20);
    return replies[n]!;
  };
  try {
    await app.start();
    while (!app.publisher.connected()) await sleep(20);

    const snap = await request("snapshot", {});
    assert.equal(snap.ok, true, JSON.stringify(snap));
    const path = (snap.result as { path: string }).path;
    assert.match(path, /\.jpg$/);

    file = yaml(broker.url, dir, "decide: { thresholds: { stain: 0.2 } }");
    const reload = await request("reload-config", {});
    assert.deepEqual(reload.result, { applied: ["decide"] });
    assert.equal(app.pipeline.decideSettings.thresholds.stain, 0.2);

    file = yaml(broker.url, dir).replace("fps: 20", "fps: 25");
    const refused = await request("reload-config", {});
    assert.equal((refused.error as { code: string }).code, "E_RELOAD_RESTART");
    assert.equal(app.pipeline.decideSettings.thresholds.stain, 0.2, "nothing applied");

    for (const name of ["../../etc", "/models/v2", "a/b"]) {
      const bad = await request("swap-model", { package: name });
      assert.equal((bad.error as { code: string }).code, "E_CMD_INVALID", name);
    }
    const missing = await request("swap-model", { package: "no-such-model" });
    assert.equal(missing.ok, false);
    const swap = await request("swap-model", { package: "tiny-classifier" });
    assert.deepEqual(swap.result, { model_version: "1.0.0" });
  } finally {
    const summary = await app.stop("test");
    await ctl.endAsync();
    await broker.stop();
    assert.equal(summary.in_flight, 0);
  }
  const files = (await import("node:fs")).readdirSync(join(dir, "snapshots"), { recursive: true }).map(String);
  assert.ok(existsSync(join(dir, "snapshots", files.find((f) => f.endsWith(".jpg"))!)));
});
