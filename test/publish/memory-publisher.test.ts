import { test } from "node:test";
import assert from "node:assert/strict";
import { MemoryPublisher } from "../../daemon/publish/memory-publisher.js";

test("the in-memory broker keeps the latest messages, bounded, for a line without a broker that runs for days", async () => {
  const p = new MemoryPublisher();
  await assert.rejects(p.publish({ id: "0", topic: "t", payload: "{}", qos: 1 }), { code: "E_PUBLISH_OFFLINE" });
  await p.connect();
  for (let i = 1; i <= 5000; i++) await p.publish({ id: String(i), topic: "t", payload: "{}", qos: 1 });
  assert.equal(p.published, 5000);
  assert.ok(p.received.length >= 1000 && p.received.length < 2000, `${p.received.length} kept`);
  // The newest, in order, without gaps.
  const ids = p.received.map((m) => Number(m.id));
  assert.equal(ids.at(-1), 5000);
  assert.deepEqual(ids, Array.from({ length: ids.length }, (_, i) => 5001 - ids.length + i));
});
