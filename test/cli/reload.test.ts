import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startCli, waitForOutput } from "./cli-helpers.js";

const BASE = `line: { mode: free-run, travel_ms: 300 }
camera: { type: synthetic, width: 320, height: 240, fps: 20 }
engine: { type: simulated, latency_ms: 2 }
http: { enabled: false }
actuation: { window_ms: 100 }
lifecycle: { progress_report_ms: 60000 }
`;

test("SIGHUP reloads thresholds live, refuses restart-only and invalid changes whole, and the line runs on", async () => {
  const dir = mkdtempSync(join(tmpdir(), "ei-reload-"));
  const file = join(dir, "line.yaml");
  writeFileSync(file, BASE);
  const { child, done } = startCli(["run", "--config", file]);
  await waitForOutput(child, /READY/);

  writeFileSync(file, BASE + "decide: { thresholds: { crack: 0.3 } }\n");
  child.kill("SIGHUP");
  await waitForOutput(child, /config reloaded: decide/);

  writeFileSync(file, BASE.replace("fps: 20", "fps: 25") + "decide: { threshold: 0.9 }\n");
  child.kill("SIGHUP");
  await waitForOutput(child, /E_RELOAD_RESTART.*reload refused, nothing applied: a restart is needed to change camera/);

  writeFileSync(file, BASE + "decide: { thresholds: { crak: 0.3 } }\n");
  child.kill("SIGHUP");
  await waitForOutput(child, /config reload refused, nothing applied: .*decide\.thresholds\.crak/);

  child.kill("SIGTERM");
  const r = await done;
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /books balance/);
});
