import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli } from "./cli-helpers.js";

const dir = mkdtempSync(join(tmpdir(), "ei-check-"));
const file = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};

test("check-config: the shipped configs are valid (exit 0)", async () => {
  for (const f of ["config/demo.yaml", "config/example.yaml"]) {
    const r = await runCli(["check-config", f]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /valid/);
  }
});

const broken: Array<[string, string, RegExp]> = [
  ["bad YAML", "camera: [unclosed\n", /YAML: .*\(line 2\)/],
  ["wrong type", "camera: { type: synthetic, fps: fast }\nengine: { type: simulated }\n", /camera\.fps: Expected number, received string \(line 1\)/],
  ["unknown key", "camera: { type: synthetic }\nengine: { type: simulated }\nlien: {}\n", /lien: unknown key 'lien' \(line 3\)/],
  ["missing key", "camera: { type: synthetic }\n", /engine: required/],
  ["out of range", "camera: { type: synthetic, defect_rate: 2 }\nengine: { type: simulated }\n", /camera\.defect_rate: Number must be less than or equal to 1 \(line 1\)/],
  ["empty file", "", /config is empty/],
];

for (const [what, text, expected] of broken) {
  test(`check-config: ${what} → exit 2, a specific message, no stack trace`, async () => {
    const r = await runCli(["check-config", file(`${what.replace(/ /g, "-")}.yaml`, text)]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, expected);
    assert.doesNotMatch(r.stderr, /\n\s+at /, "no stack trace");
  });
}

test("check-config: unreadable or missing file → exit 2", async () => {
  const r = await runCli(["check-config", join(dir, "missing.yaml")]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /cannot read config: file not found/);
  const d = await runCli(["check-config", dir]);
  assert.equal(d.code, 2);
  assert.match(d.stderr, /is a directory/);
});

test("command line mistakes → exit 64 with a hint; --help and version → exit 0", async () => {
  for (const args of [["frobnicate"], ["run", "--max-parts", "ten"], ["run", "--duration", "-1"], ["run", "--bogus"], ["check-config"], ["defects", "--bogus"], ["stats", "--since", "soon"], ["infer"]]) {
    const r = await runCli(args);
    assert.equal(r.code, 64, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, /Try 'edge-inspect/);
  }
  for (const args of [["--help"], ["run", "--help"], ["check-config", "--help"]]) {
    const r = await runCli(args);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /Usage: edge-inspect/);
    assert.match(r.stdout, /Exit codes/);
  }
  const v = await runCli(["version"]);
  assert.equal(v.code, 0);
  assert.match(v.stdout, /^edge-inspect \d+\.\d+\.\d+/);
});
