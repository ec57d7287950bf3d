// Runs every compiled test file with node's test runner. Test files that need
// root (mount namespaces) or a broker start what they need themselves.
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { spawnSync } from "node:child_process";

// dist/test/platforms is the platforms lane's, run by scripts/platforms/test.sh
// against the roots and Node releases it prepares.
function find(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (p === join("dist", "test", "platforms")) continue;
    if (statSync(p).isDirectory()) out.push(...find(p));
    else if (name.endsWith(".test.js")) out.push(p);
  }
  return out;
}

const only = process.argv.slice(2);
const files = find("dist/test").filter((f) => only.length === 0 || only.some((o) => f.includes(o))).sort();
if (files.length === 0) {
  console.error("no test files found under dist/test");
  process.exit(1);
}
// --test-force-exit: a file whose tests have all finished is done even if a
// worker it started is still being torn down (seen once in the engine fault
// tests on a loaded machine: every test passed, the file then timed out).
// The daemon's own clean exit is tested on real processes (test/cli, test/lifecycle).
const r = spawnSync(process.execPath, ["--test", "--test-concurrency=2", "--test-timeout=180000", "--test-force-exit", "--test-reporter=spec", ...files], { stdio: "inherit" });
process.exit(r.status ?? 1);
