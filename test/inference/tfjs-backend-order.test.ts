import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chooseBackend, createBackend, loadTfjsNode } from "../../daemon/inference/tfjs-backend.js";
import { CLASSIFIER } from "./fixtures.js";

/**
 * A node_modules holding @tensorflow/tfjs-node as npm leaves it when its
 * install script did not run: the JavaScript is there, the native addon is
 * not, and requiring it throws what the real package throws.
 */
function halfInstalled(): { dir: string; req: NodeRequire } {
  const dir = mkdtempSync(join(tmpdir(), "tfjs-node-"));
  const pkg = join(dir, "node_modules", "@tensorflow", "tfjs-node");
  mkdirSync(pkg, { recursive: true });
  writeFileSync(join(pkg, "package.json"), JSON.stringify({ name: "@tensorflow/tfjs-node", version: "4.22.0", main: "index.js" }));
  writeFileSync(
    join(pkg, "index.js"),
    `throw new Error("The Node.js native addon module (tfjs_binding.node) can not be found at path: " + __dirname + "/lib/napi-v8/tfjs_binding.node.");\n`,
  );
  return { dir, req: createRequire(join(dir, "index.js")) };
}

test("a half-installed tfjs-node counts as absent: the order falls through to wasm and says why", async () => {
  const { dir, req } = halfInstalled();
  try {
    assert.throws(() => loadTfjsNode(req), /native addon/);
    const notes: string[] = [];
    assert.equal(await chooseBackend(["tensorflow", "wasm", "cpu"], notes, () => loadTfjsNode(req)), "wasm");
    assert.match(notes[0]!, /^tensorflow: The Node\.js native addon module \(tfjs_binding\.node\) can not be found/);
    assert.match(notes[1]!, /^wasm: SIMD (on|off)$/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the package runs on tensorflow when tfjs-node loads, else on wasm with the reason in its notes", async () => {
  let absent: string | undefined;
  try {
    loadTfjsNode();
  } catch (err) {
    absent = (err as Error).message.split("\n")[0];
  }
  const b = await createBackend({ dir: CLASSIFIER, variant: "tfjs", backends: ["tensorflow", "wasm", "cpu"] });
  try {
    if (absent === undefined) {
      assert.equal(b.info.backend, "tfjs/tensorflow");
    } else {
      // Where libtensorflow could not be downloaded npm dropped the optional package.
      assert.equal(b.info.backend, "tfjs/wasm");
      assert.equal(b.info.package!.notes[0], `tensorflow: ${absent}`);
    }
  } finally {
    await b.close?.();
  }
});
