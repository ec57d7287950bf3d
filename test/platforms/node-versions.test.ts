// The platforms lane's x86-64 half (npm run test:platforms): the whole unit
// suite on each supported Node from the npm registry, with the native addons
// built for that Node's ABI (scripts/platforms/addons.sh) in place of
// node_modules' own. The host's Node is not repeated: npm test has just run
// the suite on it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { lane, tail, withNode } from "./lane.js";

for (const n of lane().x64) {
  test(`Node ${n.version} (x86-64): the whole unit suite passes`, () => {
    const r = withNode(n, ["node", "scripts/run-tests.js"]);
    assert.equal(r.status, 0, tail(r, 120));
    assert.match(r.stdout, /^ℹ fail 0$/m);
    assert.match(r.stdout, /^ℹ pass [1-9]/m);
  });
}
