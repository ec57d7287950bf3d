import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { App } from "../../daemon/app.js";
import { parseConfigText } from "../../daemon/config/load.js";
import { sleep } from "../../daemon/util/clock.js";
import { quietLog } from "../fakes/quiet-log.js";
import { Mosquitto } from "../fakes/mosquitto.js";
import { commander as stationCommander } from "../fakes/commander.js";

const commander = (url: string, clientId: string) => stationCommander(url, clientId, station);

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
  const { ctl, request } = await commander(broker.url, "ctl");
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

test("set-threshold is kept across a reload that changes nothing, a model swap and a restart; clearing it gives the config's value back", async () => {
  const broker = await Mosquitto.start();
  const dir = mkdtempSync(join(tmpdir(), "ei-cmd-"));
  const file = yaml(broker.url, dir, "decide: { thresholds: { stain: 0.3 } }");
  const { ctl, request } = await commander(broker.url, "ctl-overrides");
  const started = async () => {
    const app = new App(parseConfigText("t.yaml", file, {}), quietLog());
    app.configSource = () => parseConfigText("t.yaml", file, {});
    await app.start();
    while (!app.publisher.connected()) await sleep(20);
    return app;
  };
  let app = await started();
  try {
    const set = await request("set-threshold", { class: "stain", threshold: 0.9 });
    assert.equal(set.ok, true, JSON.stringify(set));
    assert.equal((set.result as { thresholds: Record<string, number> }).thresholds.stain, 0.9);
    assert.equal((await request("set-threshold", { threshold: 0.7 })).ok, true);
    const both = await request("set-threshold", { threshold: 0.7, clear: true });
    assert.equal((both.error as { code: string }).code, "E_CMD_INVALID", "a threshold and a clear at once is refused");

    assert.deepEqual((await request("reload-config", {})).result, { applied: [] });
    assert.equal(app.pipeline.decideSettings.thresholds.stain, 0.9, "a reload that changes nothing keeps it");
    assert.deepEqual((await request("swap-model", { package: "tiny-classifier" })).result, { model_version: "1.0.0" });
    assert.equal(app.pipeline.decideSettings.thresholds.stain, 0.9, "a model swap keeps it");
    assert.equal(app.pipeline.decideSettings.threshold, 0.7);
    const shown = app.health().overrides;
    assert.equal(shown.thresholds.stain?.value, 0.9);
    assert.equal(shown.thresholds.stain?.by, "operator-1");
    assert.ok(!Number.isNaN(Date.parse(shown.thresholds.stain?.set_at ?? "")));
    await app.stop("restart");

    app = await started();
    assert.equal(app.pipeline.decideSettings.thresholds.stain, 0.9, "a restart keeps it");
    assert.equal(app.pipeline.decideSettings.threshold, 0.7);
    assert.equal((await request("set-threshold", { class: "stain", clear: true })).ok, true);
    assert.equal(app.pipeline.decideSettings.thresholds.stain, 0.3, "cleared: the config's value again");
    assert.equal(app.pipeline.decideSettings.threshold, 0.7, "the other override stays");
    assert.deepEqual(Object.keys(app.health().overrides.thresholds), []);
  } finally {
    await app.stop("test");
    await ctl.endAsync();
    await broker.stop();
  }
});
