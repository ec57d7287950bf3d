import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError, loadConfig, parseConfigText } from "../../daemon/config/load.js";

const MIN = "camera: { type: synthetic }\nengine: { type: simulated }\n";

function problems(yaml: string, env: NodeJS.ProcessEnv = {}): string[] {
  try {
    parseConfigText("t.yaml", yaml, env);
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
    return err.problems.map((p) => `${p.path}: ${p.message}${p.line ? ` (line ${p.line})` : ""}`);
  }
  return [];
}

test("a minimal config gets every default", () => {
  const c = parseConfigText("t.yaml", MIN, {});
  assert.equal(c.line.mode, "free-run");
  assert.equal(c.line.failsafe.action, "reject");
  assert.equal(c.camera.type, "synthetic");
  assert.equal(c.actuation.pulse_ms, 15);
});

test("every problem is reported at once, with its key path and line", () => {
  const p = problems(`camera:
  type: synthetic
  fps: fast
engine:
  type: simulated
line:
  travel_ms: 0
  colour: blue
`);
  assert.ok(p.includes("camera.fps: Expected number, received string (line 3)"), p.join("\n"));
  assert.ok(p.includes("line.travel_ms: Number must be greater than or equal to 1 (line 7)"), p.join("\n"));
  assert.ok(p.includes("line.colour: unknown key 'colour' (line 8)"), p.join("\n"));
});

test("missing required sections are named", () => {
  const p = problems("line:\n  mode: triggered\n");
  assert.ok(p.some((x) => x.startsWith("camera: required")));
  assert.ok(p.some((x) => x.startsWith("engine: required")));
  const t = problems(MIN + "line:\n  mode: triggered\n");
  assert.deepEqual(t, ["trigger: required when line.mode is 'triggered' (line 1)"]);
});

test("bad YAML, an empty file and a non-mapping are refused with a reason", () => {
  assert.match(problems("camera: [unclosed\n")[0]!, /^: YAML: .* \(line 2\)$/);
  assert.match(problems("")[0]!, /config is empty/);
  assert.match(problems("# only a comment\n")[0]!, /config is empty/);
  assert.match(problems("- a\n- b\n")[0]!, /must be a mapping/);
  assert.match(problems("a: 1\na: 2\n")[0]!, /Map keys must be unique/);
});

test("cross-field rules: margin below travel, thresholds only for known labels, unknown camera type", () => {
  const p = problems(MIN + "line: { travel_ms: 100, decision_margin_ms: 200 }\ndecide: { thresholds: { crak: 0.3 } }\n");
  assert.ok(p.some((x) => x.startsWith("line.decision_margin_ms: decision_margin_ms must be smaller than travel_ms (line 3)")), p.join("\n"));
  assert.ok(p.some((x) => x.startsWith("decide.thresholds.crak: 'crak' is not one of the engine's labels")), p.join("\n"));
  const q = problems("camera: { type: webcam }\nengine: { type: simulated }\n");
  assert.match(q[0]!, /^camera.type: Invalid discriminator value.*\(line 1\)$/);
});

test("environment overlay sets nested keys with types, and a bad value names the variable", () => {
  const c = parseConfigText("t.yaml", MIN, { EDGE_INSPECT_LINE__TRAVEL_MS: "450", EDGE_INSPECT_STATION__SITE: "plant-7" });
  assert.equal(c.line.travel_ms, 450);
  assert.equal(c.station.site, "plant-7");
  const p = problems(MIN, { EDGE_INSPECT_LINE__TRAVEL_MS: "soon" });
  assert.deepEqual(p, ["line.travel_ms: Expected number, received string (from EDGE_INSPECT_LINE__TRAVEL_MS)"]);
});

test("secrets come from files, systemd credentials or the environment, never the YAML", () => {
  const dir = mkdtempSync(join(tmpdir(), "ei-secret-"));
  writeFileSync(join(dir, "mqtt"), "s3cret\n");
  assert.equal(parseConfigText("t.yaml", MIN + `publish: { password: "file:${join(dir, "mqtt")}" }\n`, {}).publish.password, "s3cret");
  assert.equal(parseConfigText("t.yaml", MIN + "publish: { password: credential:mqtt }\n", { CREDENTIALS_DIRECTORY: dir }).publish.password, "s3cret");
  assert.equal(parseConfigText("t.yaml", MIN + "publish: { password: env:PW }\n", { PW: "x" }).publish.password, "x");
  assert.match(problems(MIN + "publish: { password: hunter2 }\n")[0]!, /^publish.password: must be file:\/path, credential:NAME or env:VAR/);
  assert.match(problems(MIN + "publish: { password: credential:mqtt }\n")[0]!, /CREDENTIALS_DIRECTORY is not set/);
  assert.match(problems(MIN + `publish: { password: "file:${join(dir, "nope")}" }\n`)[0]!, /cannot read secret file .*nope: file not found \(ENOENT\)/);
});

test("a file that does not exist or is a directory is refused", () => {
  assert.throws(() => loadConfig("/nonexistent/edge.yaml"), /cannot read config: file not found/);
  assert.throws(() => loadConfig(tmpdir()), /cannot read config: is a directory/);
});
