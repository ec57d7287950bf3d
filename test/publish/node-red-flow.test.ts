import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { sleep } from "../../daemon/util/clock.js";
import { freePort } from "../../daemon/util/free-port.js";
import { startDemo } from "./demo.js";

const FLOWS = fileURLToPath(new URL("../../../examples/node-red/flows.json", import.meta.url));
const RED = fileURLToPath(new URL("../../../node_modules/node-red/red.js", import.meta.url));

/** Node-RED headless: loopback only, no editor, no update check, its own userDir. */
function settings(port: number): string {
  return `module.exports = {
  uiHost: "127.0.0.1",
  uiPort: ${port},
  httpAdminRoot: false,
  httpNodeRoot: false,
  disableEditor: true,
  credentialSecret: false,
  flowFile: "flows.json",
  logging: { console: { level: "warn" } },
  externalModules: { autoInstall: false, palette: { allowInstall: false }, modules: { allowInstall: false } },
  diagnostics: { enabled: false },
  telemetry: { enabled: false, updateNotification: false },
};
`;
}

test("examples/node-red/flows.json in a real Node-RED against the demo: defects and metrics land in its file sink", async () => {
  const demo = await startDemo();
  const dir = mkdtempSync(join(tmpdir(), "ei-node-red-"));
  copyFileSync(FLOWS, join(dir, "flows.json"));
  writeFileSync(join(dir, "settings.js"), settings(await freePort()));
  const log = join(dir, "out", "edge-inspect.jsonl");
  const red = spawn(process.execPath, [RED, "--userDir", dir, "--settings", join(dir, "settings.js")], {
    env: { ...process.env, EDGE_INSPECT_MQTT_PORT: String(demo.port), EDGE_INSPECT_DEFECT_LOG: log },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  red.stdout!.on("data", (d: Buffer) => (output += d.toString()));
  red.stderr!.on("data", (d: Buffer) => (output += d.toString()));
  try {
    const lines = () => (existsSync(log) ? readFileSync(log, "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l) as { kind: string; topic: string; defect?: { id: string; classes: string[] }; metrics?: { triggered: number } }) : []);
    const until = Date.now() + 120_000;
    while (!(lines().some((l) => l.kind === "defect") && lines().some((l) => l.kind === "metrics"))) {
      if (Date.now() > until || red.exitCode !== null) throw new Error(`Node-RED's flow wrote no defects and metrics: ${output}`);
      await sleep(100);
    }
    const got = lines();
    for (const l of got.filter((x) => x.kind === "defect")) {
      assert.match(l.topic, /^edge-inspect\/demo\/line1\/station1\/defects$/);
      assert.match(l.defect!.id, /^station1:[^:]+:\d+$/);
      assert.ok(Array.isArray(l.defect!.classes));
    }
    assert.ok(got.filter((x) => x.kind === "metrics").every((l) => typeof l.metrics!.triggered === "number"));
  } finally {
    red.kill("SIGTERM");
    await new Promise((r) => (red.exitCode !== null ? r(undefined) : red.once("close", r)));
    await demo.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

