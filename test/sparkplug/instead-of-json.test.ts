import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mqtt from "mqtt";
import { App } from "../../daemon/app.js";
import { BASE_YAML, lineConfig } from "../fakes/line.js";
import { Mosquitto } from "../fakes/mosquitto.js";
import { quietLog } from "../fakes/quiet-log.js";
import { HostApplication } from "./host-application.js";

test("json_topics: false: Sparkplug instead of the JSON defects and metrics (no such message is published); status stays", async () => {
  const broker = await Mosquitto.start();
  const dir = mkdtempSync(join(tmpdir(), "ei-spb-only-"));
  const host = new HostApplication(broker.url, "plant", "cam1");
  await host.connect();
  const json = await mqtt.connectAsync(broker.url, { clientId: "json-watcher" });
  const leaves: string[] = [];
  json.on("message", (t) => leaves.push(t.split("/").slice(4).join("/")));
  await json.subscribeAsync("edge-inspect/#", { qos: 1 });
  const app = new App(
    lineConfig(`${BASE_YAML}
station: { site: plant, line: l1, device: cam1 }
data_dir: ${dir}
publish: { type: mqtt, url: ${broker.url}, metrics_interval_s: 1, sparkplug: { json_topics: false, data_interval_ms: 200 } }
`),
    quietLog(),
  );
  try {
    await app.start();
    await host.until("defect events over Sparkplug", () => host.events.filter((e) => !e.historical).length >= 5);
    // Two metrics intervals: a JSON metrics message would have come by now.
    await new Promise((r) => setTimeout(r, 2500));
    assert.ok(leaves.includes("status"), "status is still published");
    assert.deepEqual(leaves.filter((l) => l === "defects" || l === "metrics"), []);
    assert.deepEqual(host.violations, []);
  } finally {
    await app.stop("test done");
    await host.disconnect();
    await json.endAsync(true);
    await broker.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
