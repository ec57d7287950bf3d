import { test } from "node:test";
import assert from "node:assert/strict";
import { topic } from "../../daemon/publish/topics.js";
import { sleep } from "../../daemon/util/clock.js";
import { OPERATOR, connected, hostileStation, publishFromProcess, station, subscriberProcess, until } from "./mqtt-station.js";

const MB = 1024 * 1024;
const SIZE = 64 * MB;

test("a 64 MB publish to cmd/ never reaches the station (MQTT 5 maximumPacketSize in CONNECT): RSS does not jump, the line and the commands carry on", async () => {
  const s = await hostileStation();
  const cmd = topic(station, "cmd/pause");
  try {
    await s.app.start();
    await connected(s.app);
    // Another client without a packet limit: proof that the broker did take the publish and deliver it.
    const other = await subscriberProcess(s.broker.url, cmd);
    await sleep(300);
    const rss0 = process.memoryUsage().rss;
    const counted = () => s.app.commands.counts.accepted + s.app.commands.counts.refused;
    const before = counted();
    const triggered = s.app.tracker.counters.triggered;
    // From another process: this one must hold none of the 64 MB itself.
    await publishFromProcess(s.broker.url, [{ topic: cmd, pad: SIZE }]);
    assert.ok((await other.bytes) >= SIZE, "the other subscriber got the whole publish");
    // A message sent after it arrives after it, so the big one would have arrived by then.
    const ok = await s.send("resume", "{}", { userProperties: { from: OPERATOR } });
    assert.equal(ok?.ok, true);
    assert.equal(counted(), before + 1, "only the small command reached the station");
    assert.equal(s.app.pipeline.paused, false);
    const rss1 = process.memoryUsage().rss;
    console.log(`big payload: RSS ${(rss0 / MB).toFixed(0)} -> ${(rss1 / MB).toFixed(0)} MB`);
    assert.ok(rss1 - rss0 < 32 * MB, `RSS grew by ${((rss1 - rss0) / MB).toFixed(0)} MB`);
    // Just over the payload limit but inside the packet limit: read, and refused by size.
    await publishFromProcess(s.broker.url, [{ topic: cmd, pad: 2000 }]);
    await until("the oversized command refused", () => (s.app.commands.counts.refusedByCode.E_CMD_TOO_LARGE ?? 0) === 1);
    await until("parts still being made", () => s.app.tracker.counters.triggered > triggered + 10);
    assert.equal(s.app.tracker.checkInvariant(), true);
  } finally {
    await s.close();
  }
});
