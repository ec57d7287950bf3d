import { test } from "node:test";
import assert from "node:assert/strict";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Writable } from "node:stream";
import { SqliteStore } from "../../daemon/records/sqlite-store.js";
import { sqliteStoreOptions } from "../../daemon/records/sqlite-options.js";
import { cmdDefects } from "../../daemon/cli/defects.js";
import { cmdStats } from "../../daemon/cli/stats.js";
import { parseConfigText } from "../../daemon/config/load.js";
import { BASE_YAML } from "../fakes/line.js";
import { quietLog } from "../fakes/quiet-log.js";
import { settledPart, tempDir } from "./parts.js";

function capture(): { out: Writable; text: () => string } {
  let s = "";
  const out = new Writable({ write: (c, _e, cb) => ((s += c.toString()), cb()) });
  return { out, text: () => s };
}

test("defects and stats read the database the config points at", async () => {
  const dir = tempDir("cli");
  try {
    const yaml = `${BASE_YAML}\ndata_dir: ${dir}\nrecords: { type: sqlite }\n`;
    const configFile = join(dir, "config.yaml");
    writeFileSync(configFile, yaml);
    const config = parseConfigText("t.yaml", yaml, {});
    assert.equal(config.records.type, "sqlite");
    const store = new SqliteStore(sqliteStoreOptions(dir, config.records as Extract<typeof config.records, { type: "sqlite" }>), quietLog());
    await store.open();
    for (let i = 1; i <= 30; i++) store.record(settledPart(i), []);
    const old = settledPart(31, "rejected");
    old.tTriggerMs -= 3 * 3_600_000;
    store.record(old, []);
    const late = settledPart(32, "rejected");
    late.judgement = { verdict: "unknown", findings: [], failsafe: "late", detail: "no verdict by the deadline" };
    late.reason = "failsafe:late";
    store.record(late, []);
    await store.close();

    const json = capture();
    assert.equal(cmdDefects(["--config", configFile, "--since", "1h", "--format", "json"], json.out), 0);
    const rows = JSON.parse(json.text()) as Array<{ part: number; reason: string; classes: string }>;
    assert.equal(rows.length, 21, "20 rejected parts in the last hour plus the fail-safe one");
    assert.ok(!rows.some((r) => r.part === 31));
    const crack = capture();
    cmdDefects(["--config", configFile, "--class", "crack", "--format", "csv"], crack.out);
    const lines = crack.text().trim().split("\n");
    assert.equal(lines[0], "time,run,part,reason,classes,scores,model_version,snapshot");
    assert.ok(lines.slice(1).every((l) => l.split(",")[4] === "crack") && lines.length > 1);
    const table = capture();
    cmdDefects(["--config", configFile, "--since", "1d"], table.out);
    assert.match(table.text(), /22 rejected part\(s\)/);

    const stats = capture();
    cmdStats(["--config", configFile, "--since", "24h", "--json"], stats.out);
    const s = JSON.parse(stats.text());
    assert.equal(s.parts, 32);
    assert.equal(s.accepted, 10);
    assert.equal(s.rejected, 22);
    assert.equal(s.failsafe.late, 1);
    assert.equal(s.rejected_by_reason["failsafe:late"], 1);
    assert.equal(s.latency_ms.p50, 12);
    const text = capture();
    cmdStats(["--config", configFile], text.out);
    assert.match(text.text(), /rejected  22 \(68\.75%\)/);

    assert.throws(() => cmdDefects(["--config", configFile, "--since", "yesterday"], capture().out), /not a duration/);
    const memoryConfig = join(dir, "memory.yaml");
    writeFileSync(memoryConfig, BASE_YAML);
    assert.throws(() => cmdStats(["--config", memoryConfig], capture().out), /keeps records in memory/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
