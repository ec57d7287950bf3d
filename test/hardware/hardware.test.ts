import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

// The hardware lane: one QEMU VM (TCG, Debian's pinned kernel, the host's root
// over 9p, gpio-sim and vivid) runs every test under test/hardware/vm/ against
// the real kernel drivers; each comes back here as a subtest of its own.
// scripts/hardware/vm-assets.sh installs and builds what the VM needs
// (cached) and fails loudly when something cannot be had: this lane never skips.
const REPO = fileURLToPath(new URL("../../../", import.meta.url));
const VM_TESTS = fileURLToPath(new URL("./vm/", import.meta.url));

interface Result {
  name: string;
  nesting: number;
  file?: string;
  ok: boolean;
  skipped: boolean;
  ms?: number;
  error?: string;
}

function run(cmd: string, args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: REPO, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (out += d.toString()));
    child.on("close", (code) => resolve({ code, out }));
  });
}

test("hardware lane: the drivers against real kernel devices in a VM", { timeout: 50 * 60_000 }, async (t) => {
  const results = mkdtempSync(join(tmpdir(), "ei-hw-"));
  const only = process.env.EDGE_HW_ONLY ?? "";
  const files = readdirSync(VM_TESTS).filter((f) => f.endsWith(".vm.js") && f.includes(only));
  assert.ok(files.length > 0, `no in-VM tests under ${VM_TESTS}`);
  const entry = join(results, "in-vm.sh");
  writeFileSync(entry, `EDGE_HW_REPO='${REPO}' EDGE_HW_ONLY='${only}' exec sh '${join(REPO, "test/hardware/guest.sh")}'\n`);
  chmodSync(entry, 0o755);
  const t0 = Date.now();
  const vm = await run("bash", ["scripts/hardware/run-vm.sh", results, entry]);
  const guestLog = existsSync(join(results, "guest.log")) ? readFileSync(join(results, "guest.log"), "utf8") : "(no guest log)";
  const events = existsSync(join(results, "events.jsonl")) ? readFileSync(join(results, "events.jsonl"), "utf8").trim().split("\n").filter(Boolean) : [];
  assert.ok(events.length > 0, `the VM reported no tests (exit ${vm.code}):\n${vm.out.slice(-4000)}\n--- guest ---\n${guestLog.slice(-6000)}`);
  const all = events.map((l) => JSON.parse(l) as Result);
  t.diagnostic(`VM run ${((Date.now() - t0) / 1000).toFixed(0)} s, ${all.length} tests inside`);
  const startsFile = join(results, "daemon-starts.jsonl");
  if (existsSync(startsFile)) {
    for (const line of readFileSync(startsFile, "utf8").trim().split("\n").filter(Boolean)) t.diagnostic(`daemon start (s since spawn): ${line}`);
  }
  // Every in-VM test file reported at least one test: a file that failed to load would otherwise vanish.
  for (const f of files) assert.ok(all.some((r) => r.file?.endsWith(f)), `${f} reported nothing:\n${guestLog.slice(-6000)}`);
  for (const r of all) {
    const where = r.file ? r.file.replace(/^.*\//, "") : "?";
    await t.test(`${"  ".repeat(r.nesting)}${where}: ${r.name}`, () => {
      assert.ok(!r.skipped, "skipped inside the VM");
      assert.ok(r.ok, r.error ?? "failed");
    });
  }
  assert.equal(vm.code, 0, `the guest's test run failed (exit ${vm.code}):\n${guestLog.slice(-6000)}`);
});
