import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mqtt from "mqtt";
import { App } from "../../daemon/app.js";
import { parseConfigText } from "../../daemon/config/load.js";
import { quietLog } from "../fakes/quiet-log.js";
import { sleep } from "../../daemon/util/clock.js";
import { encode } from "../sparkplug/host-application.js";
import { startDemo } from "./demo.js";

/** The demo starts its own broker, prints how to watch it, and the printed mosquitto_sub receives defects, metrics and status live. */
async function watchDemo(implementation?: "aedes"): Promise<void> {
  const demo = await startDemo(implementation ? { EDGE_INSPECT_PUBLISH__EMBEDDED_BROKER__IMPLEMENTATION: implementation } : {});
  const hint = demo.watch;
  assert.match(demo.out(), implementation === "aedes" ? /embedded MQTT broker \(aedes\)/ : /embedded MQTT broker \(mosquitto\)/);
  assert.match(hint, /^mosquitto_sub -h 127\.0\.0\.1 -p \d+ -t 'edge-inspect\/#' -v$/);
  // The Sparkplug node on the same broker: born, then data.
  const spb = await mqtt.connectAsync(`mqtt://127.0.0.1:${demo.port}`, { protocolVersion: 4, clientId: "demo-sparkplug-watch" });
  const verbs = new Set<string>();
  spb.on("message", (t) => verbs.add(t.split("/")[2]!));
  await spb.subscribeAsync("spBv1.0/demo/#", { qos: 0 });
  await spb.publishAsync("spBv1.0/demo/NCMD/station1", encode({ timestamp: Date.now(), metrics: [{ name: "Node Control/Rebirth", datatype: 11, booleanValue: true }] }));
  const seen = new Set<string>();
  const lines: string[] = [];
  // Exactly the printed command, through a shell as a newcomer would paste it.
  const sub = spawn("sh", ["-c", `exec ${hint}`], { stdio: ["ignore", "pipe", "pipe"] });
  let subErr = "";
  sub.stderr!.on("data", (d: Buffer) => (subErr += d.toString()));
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`mosquitto_sub saw only ${[...seen].join(", ")} within 90 s: ${subErr}\n${lines.slice(-5).join("\n")}`)), 90_000);
      let buffered = "";
      sub.stdout!.on("data", (d: Buffer) => {
        buffered += d.toString();
        const parts = buffered.split("\n");
        buffered = parts.pop()!;
        for (const line of parts) {
          lines.push(line);
          const [topic, ...rest] = line.split(" ");
          const leaf = topic!.split("/").slice(4).join("/");
          const payload = JSON.parse(rest.join(" ")) as Record<string, unknown>;
          if (leaf === "status" && payload.state === "online") seen.add("status");
          if (leaf === "defects" && typeof payload.id === "string") seen.add("defects");
          if (leaf === "metrics" && typeof payload.triggered === "number") seen.add("metrics");
        }
        if (seen.size === 3) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    const end = Date.now() + 60_000;
    while (!(verbs.has("NBIRTH") && verbs.has("DBIRTH") && verbs.has("DDATA"))) {
      if (Date.now() > end) throw new Error(`Sparkplug on the demo's broker: only ${[...verbs].join(", ")}`);
      await sleep(50);
    }
  } finally {
    await spb.endAsync(true);
    sub.kill();
    await demo.stop();
  }
  assert.deepEqual([...seen].sort(), ["defects", "metrics", "status"]);
}

test("npm start's demo: its own broker (the system's Mosquitto), the printed mosquitto_sub receives status, defects and metrics live; the Sparkplug node is there too", () => watchDemo());

test("the demo on a machine without Mosquitto: aedes in the daemon's process, the same watch line works", () => watchDemo("aedes"));

test("config/demo.yaml in-process (as the benches run it): the App starts its broker before connecting and stops it after", async () => {
  const dir = mkdtempSync(join(tmpdir(), "ei-demo-app-"));
  const config = parseConfigText("config/demo.yaml", readFileSync(new URL("../../../config/demo.yaml", import.meta.url), "utf8"), { EDGE_INSPECT_DATA_DIR: dir, EDGE_INSPECT_HTTP__ENABLED: "false" });
  const app = new App(config, quietLog());
  try {
    await app.start();
    const port = app.demoBroker!.port!;
    const end = Date.now() + 30_000;
    while (!app.publisher.connected()) {
      if (Date.now() > end) throw new Error("the station did not connect to its own broker");
      await sleep(20);
    }
    const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { protocolVersion: 4 });
    const status = await new Promise<string>((resolve) => {
      c.on("message", (_t, p) => resolve((JSON.parse(p.toString()) as { state: string }).state));
      void c.subscribeAsync("edge-inspect/demo/line1/station1/status", { qos: 1 });
    });
    assert.equal(status, "online");
    await c.endAsync(true);
    await app.stop("test done");
    await assert.rejects(mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 2000 }), "the broker stopped with the station");
  } finally {
    await app.stop("test done");
    rmSync(dir, { recursive: true, force: true });
  }
});
