import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { errorsMarkdown } from "../../daemon/cli/errors.js";
import { ERROR_CODE_FAMILIES, ERROR_CODES } from "../../daemon/util/error-codes.js";
import { REPO, runCli } from "./cli-helpers.js";

function sources(dir: string, ext: RegExp): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? sources(p, ext) : ext.test(n) ? [p] : [];
  });
}

test("every error code the daemon, the native addons and the benchmarks name is in the catalogue, and every catalogued one is used", () => {
  const files = [...sources(join(REPO, "daemon"), /\.ts$/), ...sources(join(REPO, "native"), /\.c$/), ...sources(join(REPO, "bench"), /\.ts$/)];
  const used = new Map<string, string>();
  for (const f of files) {
    if (f.endsWith("error-codes.ts")) continue;
    for (const m of readFileSync(f, "utf8").matchAll(/["`](E_[A-Z0-9_]+)/g)) used.set(m[1]!, f.slice(REPO.length));
  }
  const families = Object.keys(ERROR_CODE_FAMILIES);
  for (const [code, where] of used) {
    assert.ok(code in ERROR_CODES || families.includes(code), `${code} (${where}) is not in daemon/util/error-codes.ts`);
  }
  for (const code of Object.keys(ERROR_CODES)) assert.ok(used.has(code), `${code} is catalogued but nothing reports it`);
});

test("docs/errors.md is the catalogue as `edge-inspect errors --markdown` prints it", async () => {
  assert.equal(readFileSync(join(REPO, "docs/errors.md"), "utf8"), errorsMarkdown(), "run: node dist/daemon/main.js errors --markdown > docs/errors.md");
  const r = await runCli(["errors", "--markdown"]);
  assert.equal(r.code, 0);
  assert.equal(r.stdout, errorsMarkdown());
});

test("edge-inspect errors CODE says what a code means; a family takes its number; anything else is a usage error", async () => {
  const one = await runCli(["errors", "e_cmd_rate"]);
  assert.equal(one.code, 0, one.stderr);
  assert.equal(one.stdout, `E_CMD_RATE: ${ERROR_CODES.E_CMD_RATE}\n`);
  const family = await runCli(["errors", "E_MQTT_CONNACK_135"]);
  assert.equal(family.stdout, `E_MQTT_CONNACK_135: ${ERROR_CODE_FAMILIES.E_MQTT_CONNACK_}\n`);
  const all = await runCli(["errors"]);
  assert.equal(all.stdout.trim().split("\n").length, Object.keys(ERROR_CODES).length + families());
  for (const bad of [["errors", "E_NOPE"], ["errors", "E_MQTT_CONNACK_x"], ["errors", "a", "b"], ["errors", "--nope"]]) {
    const r = await runCli(bad);
    assert.equal(r.code, 64, bad.join(" "));
    assert.match(r.stderr, /^edge-inspect: /);
  }
});

const families = () => Object.keys(ERROR_CODE_FAMILIES).length;
