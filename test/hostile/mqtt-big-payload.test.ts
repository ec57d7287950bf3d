import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { topic } from "../../daemon/publish/topics.js";
import { sleep } from "../../daemon/util/clock.js";
import { OPERATOR, connected, hostileStation, station, until } from "./mqtt-station.js";

const MB = 1024 * 1024;
const SIZE = 64 * MB;

test("a 64 MB publish to cmd/ never reaches the station (MQTT 5 maximumPacketSize in CONNECT): RSS does not jump, the line and the commands carry on", async () => {
  const s = await hostileStation();
  const dir = mkdtempSync(join(tmpdir(), "ei-big-"));
  const file = join(dir, "big.json");
  writeFileSync(file, `{"from":"${OPERATOR}","pad":"${"x".repeat(SIZE)}"}`);
  const cmd = topic(station, "cmd/pause");
  // Another client without a packet limit: proof that the broker did take the publish and deliver it.
  const other = spawn("mosquitto_sub", ["-h", "127.0.0.1", "-p", String(s.broker.port), "-V", "5", "-t", cmd, "-C", "1", "-N"], { stdio: ["ignore", "pipe", "ignore"] });
  let otherBytes = 0;
  other.stdout!.on("data", (d: Buffer) => (otherBytes += d.byteLength));
  const otherDone = new Promise((r) => other.once("close", r));
  try {
    await s.app.start();
    await connected(s.app);
    await sleep(300);
    const rss0 = process.memoryUsage().rss;
    const counted = () => s.app.commands.counts.accepted + s.app.commands.counts.refused;
    const before = counted();
    const triggered = s.app.tracker.counters.triggered;
    // External publishers: this process must hold none of the 64 MB itself.
    const pub = (f: string, name = cmd) => promisify(execFile)("mosquitto_pub", ["-h", "127.0.0.1", "-p", String(s.broker.port), "-V", "5", "-q", "1", "-t", name, "-f", f]);
    await pub(file);
    await otherDone;
    assert.ok(otherBytes >= SIZE, `the other subscriber got ${otherBytes} bytes`);
    // A message sent after it arrives, so the big one would have arrived before it.
    const ok = await s.send("resume", "{}", { userProperties: { from: OPERATOR } });
    assert.equal(ok?.ok, true);
    assert.equal(counted(), before + 1, "only the small command reached the station");
    assert.equal(s.app.pipeline.paused, false);
    const rss1 = process.memoryUsage().rss;
    console.log(`big payload: RSS ${(rss0 / MB).toFixed(0)} -> ${(rss1 / MB).toFixed(0)} MB`);
    assert.ok(rss1 - rss0 < 32 * MB, `RSS grew by ${((rss1 - rss0) / MB).toFixed(0)} MB`);
    // Just over the payload limit but inside the packet limit: read, and refused by size.
    const over = join(dir, "over.json");
    writeFileSync(over, `{"from":"${OPERATOR}","pad":"${"x".repeat(2000)}"}`);
    await pub(over);
    await until("the oversized command refused", () => (s.app.commands.counts.refusedByCode.E_CMD_TOO_LARGE ?? 0) === 1);
    await until("parts still being made", () => s.app.tracker.counters.triggered > triggered + 10);
    assert.equal(s.app.tracker.counters.escaped, 0);
    assert.equal(s.app.tracker.checkInvariant(), true);
  } finally {
    other.kill();
    rmSync(dir, { recursive: true, force: true });
    await s.close();
  }
});
