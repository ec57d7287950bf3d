// The platforms lane's x86-64 half (npm run test:platforms): the whole unit
// suite on each supported Node from the npm registry, with the native addons
// built for that Node's ABI (scripts/platforms/addons.sh) in place of
// node_modules' own. The host's Node is not repeated: npm test has just run
// the suite on it. The lanes are left out: this one, and the hardware lane,
// whose VM tests the kernel drivers (the same N-API addons on every Node).
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { join, relative } from "node:path";
import { lane, REPO, tail, withNode } from "./lane.js";

const LANES = ["dist/test/platforms/", "dist/test/hardware/"];
const units = readdirSync(join(REPO, "dist/test"), { recursive: true, encoding: "utf8" })
  .map((f) => relative(REPO, join(REPO, "dist/test", f)))
  .filter((f) => f.endsWith(".test.js") && !LANES.some((l) => f.startsWith(l)))
  .sort();

for (const n of lane().x64) {
  test(`Node ${n.version} (x86-64): the whole unit suite passes`, () => {
    assert.ok(units.length > 50, `only ${units.length} unit test files under dist/test`);
    const r = withNode(n, ["node", "scripts/run-tests.js", ...units]);
    assert.equal(r.status, 0, tail(r, 120));
    assert.match(r.stdout, /^ℹ fail 0$/m);
    assert.match(r.stdout, /^ℹ pass [1-9]/m);
  });
}
