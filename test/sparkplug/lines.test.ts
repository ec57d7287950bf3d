import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Mosquitto } from "../fakes/mosquitto.js";
import { HostApplication } from "./host-application.js";
import { GROUP, NODE, OPERATOR, startStation } from "./station.js";

/**
 * A station of two lines as one Sparkplug edge node with a device per line,
 * watched by an independent host: each line is born as its own device with
 * its own books, its defect events are DDATA on its own device, and a DCMD to
 * one device acts on that line only.
 */
test("Sparkplug with several lines: a device per line, each born with its own books and events; a DCMD to one device acts on its line only", async () => {
  const broker = await Mosquitto.start();
  const host = new HostApplication(broker.url, GROUP, NODE);
  await host.connect();
  const dir = mkdtempSync(join(tmpdir(), "ei-spb-lines-"));
  const file = join(dir, "lines.yaml");
  writeFileSync(
    file,
    `station: { site: ${GROUP}, device: ${NODE} }
data_dir: ${dir}
line: { mode: free-run, travel_ms: 300 }
camera: { type: synthetic, width: 320, height: 240, fps: 20, defect_rate: 0.4 }
engine: { type: simulated, latency_ms: 2 }
records: { type: sqlite }
http: { enabled: false }
actuation: { window_ms: 100 }
lifecycle: { stop_timeout_ms: 5000, progress_report_ms: 60000 }
publish:
  type: mqtt
  url: ${broker.url}
  reconnect_ms: 200
  commands: { allow: [${OPERATOR}] }
  sparkplug: { data_interval_ms: 250 }
lines:
  lane1: { camera: { seed: 5 }, actuation: { reject: { name: kick_1 } } }
  lane2: { camera: { seed: 6, fps: 10 }, actuation: { reject: { name: kick_2 } } }
`,
  );
  const station = startStation(file);
  try {
    await host.until("a DBIRTH for each line", () => host.tags.has("lane1") && host.tags.has("lane2"));
    for (const device of ["lane1", "lane2"]) {
      for (const name of ["Parts/Triggered", "Control/Paused", "Camera/Connected", "Defects/Event"]) assert.ok(host.tags.get(device)?.has(name), `DBIRTH of ${device} has ${name}`);
    }
    await host.until("each line counting its parts", () => (host.tag("lane1", "Parts/Triggered") as number) > 5 && (host.tag("lane2", "Parts/Triggered") as number) > 5);
    await host.until("defect events on both devices", () => host.events.some((e) => e.device === "lane1") && host.events.some((e) => e.device === "lane2"));
    const ids = host.events.map((e) => e.id);
    assert.equal(new Set(ids).size, ids.length, "no event twice: a part is one line's");

    await host.deviceCommand("lane2", [
      { name: "Control/Paused", datatype: 11, booleanValue: true },
      { name: "Command/From", datatype: 12, stringValue: OPERATOR },
    ]);
    await host.until("lane2 paused", () => host.tag("lane2", "Control/Paused") === true);
    assert.equal(host.tag("lane1", "Control/Paused"), false, "lane1 goes on");
    const lane1 = host.tag("lane1", "Parts/Triggered") as number;
    await host.until("lane1 still counting", () => (host.tag("lane1", "Parts/Triggered") as number) > lane1 + 5);

    station.child.kill("SIGTERM");
    const ran = await station.done;
    assert.equal(ran.code, 0, ran.stderr);
    await host.until("a DDEATH for each line", () => host.count("DDEATH") >= 2);
    assert.deepEqual(host.violations, []);
  } finally {
    station.child.kill("SIGKILL");
    await host.disconnect();
    await broker.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
