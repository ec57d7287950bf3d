import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const UNIT = fileURLToPath(new URL("../../../systemd/edge-inspect.service", import.meta.url));
const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const text = readFileSync(UNIT, "utf8");
const directives = new Map<string, string[]>();
for (const line of text.split("\n")) {
  const m = /^([A-Za-z]+)=(.*)$/.exec(line);
  if (m) directives.set(m[1]!, [...(directives.get(m[1]!) ?? []), m[2]!]);
}
const one = (k: string) => directives.get(k)?.[0];

test("the unit is a notify service with a watchdog, bounded restarts and a confined sandbox", () => {
  assert.equal(one("Type"), "notify");
  assert.equal(one("NotifyAccess"), "main");
  assert.ok(one("WatchdogSec"));
  assert.equal(one("Restart"), "on-failure");
  assert.ok(Number(one("StartLimitBurst")) > 0);
  assert.equal(one("User"), "edge-inspect");
  assert.deepEqual(one("SupplementaryGroups")?.split(" ").sort(), ["gpio", "video"]);
  assert.equal(one("ProtectSystem"), "strict");
  assert.equal(one("NoNewPrivileges"), "yes");
  assert.equal(one("DevicePolicy"), "closed");
  assert.deepEqual(directives.get("DeviceAllow")?.sort(), ["char-gpiochip rw", "char-video4linux rw"]);
  assert.ok(directives.get("ReadWritePaths")?.includes("/var/lib/edge-inspect"));
});

test("systemd-analyze verify accepts the unit", (t) => {
  const probe = spawnSync("systemd-analyze", ["--version"]);
  if (probe.error) {
    t.diagnostic("systemd-analyze is not installed: verified statically only");
    return;
  }
  // The unit as installed from this checkout: its commands must exist where install.sh puts them.
  const dir = mkdtempSync(join(tmpdir(), "unit-"));
  const unit = join(dir, "edge-inspect.service");
  writeFileSync(unit, text.replaceAll("/opt/edge-inspect/", ROOT));
  const r = spawnSync("systemd-analyze", ["verify", unit], { encoding: "utf8" });
  // Warnings about this machine (e.g. the edge-inspect user missing) are not unit errors.
  const errors = (r.stderr + r.stdout).split("\n").filter((l) => l.includes("edge-inspect.service") && /error|invalid|unknown/i.test(l));
  assert.deepEqual(errors, []);
  assert.equal(r.status, 0, r.stderr);
});
