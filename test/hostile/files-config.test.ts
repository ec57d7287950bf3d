import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { App } from "../../daemon/app.js";
import { ConfigError, loadConfig, parseConfigText } from "../../daemon/config/load.js";
import { readTruthFile } from "../../daemon/capture/truth-file.js";
import { sinceArg } from "../../daemon/cli/args.js";
import { runCli } from "../cli/cli-helpers.js";
import { lineConfig } from "../fakes/line.js";
import { quietLog } from "../fakes/quiet-log.js";
import { aliasBomb } from "./hostile-yaml.js";

const MIN = "camera: { type: synthetic }\nengine: { type: simulated }\n";
const dir = mkdtempSync(join(tmpdir(), "ei-hostile-config-"));
test.after(() => rmSync(dir, { recursive: true, force: true }));

let n = 0;
/** A file (or a special file made by `make`) in the test folder. */
function place(content: string | Buffer | ((path: string) => void)): string {
  const path = join(dir, `c${n++}.yaml`);
  if (typeof content === "function") content(path);
  else writeFileSync(path, content);
  return path;
}

/** The problems loadConfig reports; anything but a ConfigError fails the test. */
function problems(path: string): string[] {
  try {
    loadConfig(path, { env: {} });
  } catch (err) {
    assert.ok(err instanceof ConfigError, `${path}: expected ConfigError, got ${String(err)}`);
    assert.equal(err.code, "E_CONFIG");
    return err.problems.map((p) => `${p.path}: ${p.message}`);
  }
  return [];
}

const deep = (n: number) => `${MIN}line: ${"[".repeat(n)}${"]".repeat(n)}\n`;

/** Config files a careless or hostile hand could leave at /etc/edge-inspect/config.yaml. */
const CASES: Array<[string, string | Buffer | ((p: string) => void), RegExp]> = [
  ["an alias bomb", aliasBomb(), /: YAML: Excessive alias count indicates a resource exhaustion attack/],
  ["an alias bomb inside a section", `${MIN}line:\n${aliasBomb(8).replace(/^/gm, "  ")}`, /YAML: Excessive alias count/],
  ["a link to /dev/zero", (p) => symlinkSync("/dev/zero", p), /cannot read config: is a character device, not a regular file/],
  ["a link to /dev/urandom", (p) => symlinkSync("/dev/urandom", p), /is a character device/],
  ["a FIFO", (p) => execFileSync("mkfifo", [p]), /cannot read config: is a FIFO/],
  ["a folder", (p) => mkdirSync(p), /cannot read config: is a directory/],
  ["a dangling link", (p) => symlinkSync(join(dir, "nowhere"), p), /cannot read config: file not found/],
  ["a link loop", (p) => symlinkSync(p, p), /cannot read config: is a symbolic link \(ELOOP\)/],
  ["2 MB of YAML", `${MIN}${"# comment line padding the file out\n".repeat(60_000)}`, /cannot read config: is \d+ bytes, more than the 1048576 allowed/],
  ["a binary file", Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0, 0, 0, 0, 0]), /config is a binary file \(a NUL byte at offset 7\)/],
  ["UTF-16 with a byte-order mark", Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(MIN, "utf16le")]), /config is UTF-16 text: save it as UTF-8/],
  ["UTF-16 big-endian", Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from(MIN, "utf16le").swap16()]), /UTF-16/],
  ["Latin-1 text", Buffer.from(`${MIN}# caf\xe9\n`, "latin1"), /config is not UTF-8 text/],
  ["a cut UTF-8 sequence", Buffer.concat([Buffer.from(MIN), Buffer.from([0xe2, 0x82])]), /not UTF-8 text/],
  ["10000 nested lists", deep(10_000), /: YAML: Maximum call stack size exceeded/],
  ["a scalar document", "just a string\n", /config must be a mapping/],
  ["a list document", "- camera\n- engine\n", /config must be a mapping/],
  ["two documents", `${MIN}---\n${MIN}`, /YAML: Source contains multiple documents/],
  ["a duplicated key", `${MIN}camera: { type: synthetic }\n`, /YAML: Map keys must be unique/],
  ["tab indentation", "camera:\n\ttype: synthetic\nengine: { type: simulated }\n", /YAML: /],
  ["a JS function tag", `${MIN}line: !!js/function "function () { return 1 }"\n`, /line: /],
  ["a binary tag", `${MIN}line: !!binary aGVsbG8=\n`, /line\.0: unknown key/],
  ["a merge key", `base: &b { type: synthetic }\ncamera: { <<: *b }\nengine: { type: simulated }\n`, /unknown key/],
  ["an infinite number", `camera: { type: synthetic, fps: .inf }\nengine: { type: simulated }\n`, /camera\.fps: must be a finite number/],
  ["a NaN", `camera: { type: synthetic, fps: .nan }\nengine: { type: simulated }\n`, /camera\.fps: must be a finite number/],
  ["an overflowing number", `camera: { type: synthetic, fps: 1e400 }\nengine: { type: simulated }\n`, /camera\.fps: must be a finite number/],
  ["a 100 kB key", `${MIN}${"k".repeat(100_000)}: 1\n`, /YAML: The : indicator must be at most 1024 chars/],
  ["a secret file that is /dev/zero", `${MIN}publish: { type: mqtt, url: "mqtt://127.0.0.1", password: "file:/dev/zero" }\n`, /publish\.password: cannot read secret file \/dev\/zero: is a character device/],
  ["a secret file that is a folder", `${MIN}publish: { type: mqtt, url: "mqtt://127.0.0.1", password: "file:/etc" }\n`, /cannot read secret file \/etc: is a directory/],
];

test("every hostile config file is a list of 'path: problem', never a crash, a hang or a read of a device", () => {
  const failures: string[] = [];
  for (const [what, content, expected] of CASES) {
    const t0 = Date.now();
    const p = problems(place(content));
    if (p.length === 0) failures.push(`${what}: accepted`);
    else if (!p.some((line) => expected.test(line))) failures.push(`${what}: ${p.join(" | ")}`);
    if (Date.now() - t0 > 15_000) failures.push(`${what}: took ${Date.now() - t0} ms`);
  }
  assert.deepEqual(failures, []);
});

test("a UTF-8 byte-order mark is harmless", () => {
  assert.deepEqual(problems(place(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(MIN)]))), []);
});

test("check-config exits 2 for an alias bomb, as for any invalid config (it was 1 with E_INTERNAL)", async () => {
  const r = await runCli(["check-config", place(aliasBomb())]);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /invalid config .*\n\(top level\): YAML: Excessive alias count/);
  assert.doesNotMatch(r.stderr, /E_INTERNAL|\n\s+at /);
});

test("parseConfigText alone also turns an alias bomb into a ConfigError", () => {
  assert.throws(() => parseConfigText("t.yaml", aliasBomb(), {}), (err) => err instanceof ConfigError && /Excessive alias count/.test(err.message));
});

test("hostile ground-truth files are coded errors", () => {
  const truth = (content: string | Buffer | ((p: string) => void)) => {
    const p = join(dir, `t${n++}.json`);
    if (typeof content === "function") content(p);
    else writeFileSync(p, content);
    return p;
  };
  const cases: Array<[string, string, RegExp]> = [
    [truth((p) => symlinkSync("/dev/zero", p)), "E_TRUTH_READ", /is a character device/],
    [truth((p) => execFileSync("mkfifo", [p])), "E_TRUTH_READ", /is a FIFO/],
    [truth("{"), "E_TRUTH_MALFORMED", /is not JSON/],
    [truth("[]"), "E_TRUTH_MALFORMED", /\(top level\): Expected object/],
    [truth(JSON.stringify({ generator: "edge-inspect synth", seed: 1, defect_rate: 0.1, width: 1, height: 1, fps: 1, video: null, parts: [{ frame: -1, file: null, part_type: "a", class: "ok", bbox: null }] })), "E_TRUTH_MALFORMED", /parts\.0\.frame/],
    [truth(`{"a":${"[".repeat(5000)}${"]".repeat(5000)}}`), "E_TRUTH_MALFORMED", /\(top level\)|generator/],
    [join(dir, "missing.json"), "E_TRUTH_READ", /file not found/],
  ];
  for (const [path, code, message] of cases) {
    assert.throws(() => readTruthFile(path), (err: Error & { code?: string }) => {
      assert.equal(err.code, code, `${path}: ${err.message}`);
      assert.match(err.message, message);
      return true;
    });
  }
});

test("a records database from a newer release, or a file that is not SQLite, is a coded error for the operator commands", async () => {
  const config = (db: string) => place(`${MIN}records: { type: sqlite, file: ${JSON.stringify(db)} }\ndata_dir: ${JSON.stringify(dir)}\n`);
  const text = join(dir, "text.sqlite");
  writeFileSync(text, "this is not a database, just some text that is long enough to fill a header page\n".repeat(20));
  const newer = join(dir, "newer.sqlite");
  const db = new Database(newer);
  db.pragma("user_version = 999");
  db.close();
  for (const [file, code, message] of [
    [text, "E_STORE_OPEN", /not a records database|file is not a database/],
    [newer, "E_STORE_SCHEMA", /schema version 999, newer than this release understands/],
  ] as const) {
    for (const cmd of ["defects", "stats"]) {
      const r = await runCli([cmd, "--config", config(file)]);
      assert.equal(r.code, 1, `${cmd} ${file}: ${r.stderr}`);
      assert.match(r.stderr, new RegExp(code));
      assert.match(r.stderr, message);
      assert.doesNotMatch(r.stderr, /\n\s+at /);
    }
  }
});

test("dates that do not exist are refused by the operator commands, not rolled over", async () => {
  for (const since of ["2024-02-30", "2023-02-29", "2024-13-01", "2024-04-31T00:00Z", "2024-05-01T24:00Z", "2024-05-01T12:60Z", "2024-05-01T12:00+25:00"]) {
    assert.throws(() => sinceArg(since), (err: Error & { code?: string }) => err.code === "E_USAGE" && /--since '.*' is not a time: /.test(err.message), since);
  }
  assert.equal(sinceArg("2024-02-29"), Date.UTC(2024, 1, 29));
  assert.equal(sinceArg("90s", 100_000), 10_000);
  // And the command exits 64 with the reason.
  const r = await runCli(["defects", "--since", "2024-02-30", "--config", place(`${MIN}records: { type: sqlite }\ndata_dir: ${JSON.stringify(dir)}\n`)]);
  assert.equal(r.code, 64, r.stderr);
  assert.match(r.stderr, /--since '2024-02-30' is not a time: 2024-02 has no day 30/);
});

test("an infinite number from the environment is named with the variable that set it", () => {
  assert.throws(
    () => parseConfigText("t.yaml", MIN, { EDGE_INSPECT_CAMERA__FPS: ".inf", EDGE_INSPECT_LINE__TRAVEL_MS: "1e999" }),
    (err) => {
      assert.ok(err instanceof ConfigError);
      assert.deepEqual(err.problems.map((p) => `${p.path}: ${p.message}`).sort(), [
        "camera.fps: must be a finite number (from EDGE_INSPECT_CAMERA__FPS)",
        "line.travel_ms: must be a finite number (from EDGE_INSPECT_LINE__TRAVEL_MS)",
      ]);
      return true;
    },
  );
});

test("TLS files that are devices or folders refuse the start with http.tls.<file>: problem, unread", async () => {
  for (const [cert, message] of [
    ["/dev/zero", /http\.tls\.cert: cannot read \/dev\/zero: is a character device, not a regular file/],
    ["/etc", /http\.tls\.cert: cannot read \/etc: is a directory/],
    [join(dir, "no-cert.pem"), /http\.tls\.cert: cannot read .*no-cert\.pem: file not found/],
  ] as const) {
    const app = new App(lineConfig(`${MIN}data_dir: ${JSON.stringify(dir)}\nhttp: { port: 0, tls: { cert: ${JSON.stringify(cert)}, key: /dev/zero } }\n`), quietLog());
    const t0 = Date.now();
    await assert.rejects(app.start(), (err: Error & { code?: string }) => err.code === "E_CONFIG" && message.test(err.message));
    await app.stop("test");
    assert.ok(Date.now() - t0 < 20_000);
  }
});
