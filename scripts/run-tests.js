// Runs every compiled test file with node's test runner. Test files that need
// root (mount namespaces) or a broker start what they need themselves.
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { spawn, spawnSync } from "node:child_process";
import { cpus } from "node:os";

// dist/test/platforms is the platforms lane's, run by scripts/platforms/test.sh
// against the roots and Node releases it prepares: not in `npm test` until it
// passes end to end within CI's budget. dist/test/hardware is the hardware
// lane's (a VM with Debian's kernel): part of the default run, after the rest.
const HARDWARE = join("dist", "test", "hardware");
const LANES = [join("dist", "test", "platforms")];
function find(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...find(p));
    else if (name.endsWith(".test.js")) out.push(p);
  }
  return out;
}

const only = process.argv.slice(2);
const files = find("dist/test")
  .filter((f) => (only.length === 0 ? !LANES.some((l) => f.startsWith(l)) : only.some((o) => f.includes(o))))
  .sort();
if (files.length === 0) {
  console.error("no test files found under dist/test");
  process.exit(1);
}
// --test-force-exit: a file whose tests have all finished is done even if a
// worker it started is still being torn down (seen once in the engine fault
// tests on a loaded machine: every test passed, the file then timed out).
// The daemon's own clean exit is tested on real processes (test/cli, test/lifecycle).
// EDGE_INSPECT_TEST_STRESS=1: the suite with 2 x cores busy loops beside it,
// at normal priority, as a busy board would run it. Tests assert what must
// hold whatever the load (books, reasons, every part accounted for).
const stress = process.env.EDGE_INSPECT_TEST_STRESS === "1" ? Array.from({ length: 2 * cpus().length }, () => spawn("sh", ["-c", "while :; do :; done"], { stdio: "ignore" })) : [];
if (stress.length > 0) console.error(`run-tests: ${stress.length} busy loops beside the suite (EDGE_INSPECT_TEST_STRESS=1)`);
// Every other EDGE_INSPECT_* variable is a config override to the daemons the tests start: this one is not.
const env = { ...process.env };
delete env.EDGE_INSPECT_TEST_STRESS;
const run = (group, timeout) =>
  group.length === 0 ? 0 : (spawnSync(process.execPath, ["--test", "--test-concurrency=2", `--test-timeout=${timeout}`, "--test-force-exit", "--test-reporter=spec", ...group], { stdio: "inherit", env }).status ?? 1);
// The hardware lane boots a VM that emulates a machine of its own on both
// cores: it runs after the rest, alone (busy loops stopped), with a bound of its own.
const lane = files.filter((f) => f.startsWith(HARDWARE));
const rest = run(files.filter((f) => !lane.includes(f)), 600_000);
for (const c of stress) c.kill("SIGKILL");
const hardware = run(lane, 3_000_000);
process.exit(rest || hardware);
