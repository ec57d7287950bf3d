import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { App } from "../../daemon/app.js";
import { parseConfigText } from "../../daemon/config/load.js";
import { BASE_YAML } from "../fakes/line.js";
import { Mosquitto } from "../fakes/mosquitto.js";
import { quietLog } from "../fakes/quiet-log.js";
import { HostApplication } from "./host-application.js";

test("the Sparkplug node connects with the station's TLS client certificate and password, on a connection of its own", async () => {
  const broker = await Mosquitto.start({ tls: true, users: { station1: "s3cret", scada: "h0st" } });
  const tls = broker.tlsFiles!;
  const dir = mkdtempSync(join(tmpdir(), "ei-spb-tls-"));
  const host = new HostApplication(broker.url, "plant", "cam1", { connectOptions: { username: "scada", password: "h0st", ca: tls.ca, cert: tls.cert, key: tls.key } });
  const config = parseConfigText(
    "t.yaml",
    `${BASE_YAML}
station: { site: plant, line: l1, device: cam1 }
data_dir: ${dir}
publish:
  type: mqtt
  url: ${broker.url}
  username: station1
  password: env:MQTT_PASSWORD
  tls: { ca: ${tls.ca}, cert: ${tls.cert}, key: ${tls.key} }
  sparkplug: { data_interval_ms: 200 }
`,
    { MQTT_PASSWORD: "s3cret" },
  );
  const app = new App(config, quietLog());
  try {
    await host.connect();
    await app.start();
    await host.until("the node's births over TLS", () => host.count("DBIRTH") >= 1 && host.count("DDATA") >= 1);
    assert.ok(app.publisher.connected(), "the JSON publisher has its own connection beside it");
    assert.deepEqual(host.violations, []);
  } finally {
    await app.stop("test done");
    await host.disconnect();
    await broker.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
