import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError } from "../../daemon/config/load.js";
import { BdSeqFile } from "../../daemon/publish/sparkplug/bdseq-file.js";
import { edgeNodeId } from "../../daemon/publish/sparkplug/options.js";
import { errorCode } from "../../daemon/util/errors.js";
import { BASE_YAML, lineConfig } from "../fakes/line.js";

function refused(yaml: string, path: RegExp): void {
  assert.throws(
    () => lineConfig(`${BASE_YAML}${yaml}`),
    (err: unknown) => err instanceof ConfigError && err.code === "E_CONFIG" && err.problems.some((p) => path.test(`${p.path}: ${p.message}`)),
  );
}

test("publish.sparkplug is checked: ids that would break the topic namespace, intervals, unknown keys; ids default from the station", () => {
  refused("publish: { type: mqtt, url: mqtt://x, sparkplug: { group_id: 'a/b' } }\n", /^publish\.sparkplug\.group_id: only letters/);
  refused("publish: { type: mqtt, url: mqtt://x, sparkplug: { edge_node_id: 'n+1' } }\n", /^publish\.sparkplug\.edge_node_id: only letters/);
  refused("publish: { type: mqtt, url: mqtt://x, sparkplug: { primary_host_id: '#' } }\n", /^publish\.sparkplug\.primary_host_id: only letters/);
  refused("publish: { type: mqtt, url: mqtt://x, sparkplug: { data_interval_ms: 0 } }\n", /^publish\.sparkplug\.data_interval_ms/);
  refused("publish: { type: mqtt, url: mqtt://x, sparkplug: { qos: 1 } }\n", /^publish\.sparkplug\.qos: unknown key/);
  const c = lineConfig(`${BASE_YAML}station: { site: s1, line: l1, device: d1 }\npublish: { type: mqtt, url: mqtt://x, sparkplug: {} }\n`);
  assert.equal(c.publish.type, "mqtt");
  const s = c.publish.type === "mqtt" ? c.publish.sparkplug! : undefined;
  assert.deepEqual(s && edgeNodeId(c, s), { groupId: "s1", edgeNodeId: "d1" });
  assert.equal(s?.json_topics, true);
  assert.equal(s?.enabled, true);
});

test("publish.url or publish.embedded_broker, exactly one; the embedded broker's settings are checked", () => {
  refused("publish: { type: mqtt }\n", /^publish\.url: required \(or publish\.embedded_broker\)/);
  refused("publish: { type: mqtt, url: mqtt://x, embedded_broker: {} }\n", /^publish\.url: the embedded broker has its own address/);
  refused("publish: { type: mqtt, embedded_broker: { port: 70000 } }\n", /^publish\.embedded_broker\.port/);
  refused("publish: { type: mqtt, embedded_broker: { implementation: hivemq } }\n", /^publish\.embedded_broker\.implementation/);
  const c = lineConfig(`${BASE_YAML}publish: { type: mqtt, embedded_broker: {} }\n`);
  assert.deepEqual(c.publish.type === "mqtt" && c.publish.embedded_broker, { port: 0, implementation: "auto" });
});

test("bdSeq file: 0 first, one more per CONNECT, 255 wraps to 0, a damaged file starts again at 0, an unwritable one is E_SPARKPLUG_BDSEQ", () => {
  const dir = mkdtempSync(join(tmpdir(), "ei-bdseq-"));
  try {
    const f = new BdSeqFile(join(dir, "sub", "sparkplug-bdseq"));
    assert.equal(f.last(), -1);
    assert.equal(f.next(), 0);
    assert.equal(f.next(), 1);
    assert.equal(new BdSeqFile(join(dir, "sub", "sparkplug-bdseq")).next(), 2, "kept across instances (restarts)");
    writeFileSync(join(dir, "sub", "sparkplug-bdseq"), "255\n");
    assert.equal(f.next(), 0);
    writeFileSync(join(dir, "sub", "sparkplug-bdseq"), "garbage");
    assert.equal(f.next(), 0);
    // Not a permission (root writes anyway): a path under a plain file cannot be created by anyone.
    writeFileSync(join(dir, "plain"), "");
    assert.throws(() => new BdSeqFile(join(dir, "plain", "sparkplug-bdseq")).next(), (err: unknown) => errorCode(err) === "E_SPARKPLUG_BDSEQ");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
