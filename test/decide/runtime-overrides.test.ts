import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RuntimeOverrides } from "../../daemon/decide/runtime-overrides.js";
import { EdgeError } from "../../daemon/util/errors.js";
import { quietLog } from "../fakes/quiet-log.js";

const cfg = { threshold: 0.5, thresholds: { stain: 0.3, crack: 0.4 } };

test("overrides sit over the config's values, are kept in the data directory and read back by the next run", () => {
  const dir = mkdtempSync(join(tmpdir(), "ei-ovr-"));
  const a = new RuntimeOverrides(dir, quietLog());
  a.load();
  assert.deepEqual(a.over(cfg), cfg, "nothing set: the config's values");
  a.set("stain", 0.9, "operator-1");
  a.set(undefined, 0.6, "operator-2");
  assert.deepEqual(a.over(cfg), { threshold: 0.6, thresholds: { stain: 0.9, crack: 0.4 } });
  const b = new RuntimeOverrides(dir, quietLog());
  b.load();
  assert.deepEqual(b.over(cfg), a.over(cfg));
  assert.equal(b.view().thresholds.stain?.by, "operator-1");
  b.set("stain", undefined, "operator-1");
  assert.deepEqual(b.over(cfg), { threshold: 0.6, thresholds: { stain: 0.3, crack: 0.4 } });
  assert.deepEqual(readdirSync(dir), ["runtime-overrides.json"], "no temporary file left beside it");
});

test("a damaged overrides file is set aside with a coded error, never lost, and the config's values apply", () => {
  const damaged = ["{ not json", JSON.stringify({ thresholds: { stain: { value: 7, set_at: "x", by: "y" } } }), JSON.stringify({ threshold: { value: 0.1 }, extra: 1 }), "\u0000".repeat(100), "x".repeat(70_000)];
  for (const text of damaged) {
    const dir = mkdtempSync(join(tmpdir(), "ei-ovr-"));
    writeFileSync(join(dir, "runtime-overrides.json"), text);
    const lines: Array<{ code?: string }> = [];
    const log = quietLog();
    log.error = ((o: { code?: string }) => void lines.push(o)) as typeof log.error;
    const o = new RuntimeOverrides(dir, log);
    o.load();
    assert.deepEqual(o.over(cfg), cfg, text.slice(0, 30));
    assert.equal(lines[0]?.code, "E_OVERRIDES_FILE");
    const aside = readdirSync(dir).filter((f) => f.startsWith("runtime-overrides.json.bad-"));
    assert.equal(aside.length, 1);
    assert.equal(readFileSync(join(dir, aside[0]!), "utf8"), text, "the damaged file is kept as it was");
  }
});

test("an override that cannot be kept (its file is a directory) is not applied either: E_OVERRIDES_FILE, the running values unchanged", () => {
  const dir = mkdtempSync(join(tmpdir(), "ei-ovr-"));
  mkdirSync(join(dir, "runtime-overrides.json"));
  const o = new RuntimeOverrides(dir, quietLog());
  assert.throws(() => o.set("stain", 0.9, "operator-1"), (e: unknown) => e instanceof EdgeError && e.code === "E_OVERRIDES_FILE");
  assert.deepEqual(o.over(cfg), cfg);
  assert.ok(existsSync(join(dir, "runtime-overrides.json")));
});
