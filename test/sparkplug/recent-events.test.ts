import { test } from "node:test";
import assert from "node:assert/strict";
import { RecentEvents } from "../../daemon/publish/sparkplug/recent-events.js";

const event = (n: number) => ({ id: `spb:cam1:1:${n}`, topic: "spBv1.0/plant/DDATA/cam1/l1", payload: "{}", qos: 0 as const });

test("recent events: those of the last window are sent again, oldest first, once; older ones are not; a window of 0 keeps none", () => {
  const r = new RecentEvents(60_000);
  r.noteSent(event(1), 0);
  r.noteSent(event(2), 30_000);
  r.noteSent(event(3), 70_000);
  r.resendLater(80_000);
  assert.deepEqual(r.take().map((e) => e.id), ["spb:cam1:1:2", "spb:cam1:1:3"]);
  assert.deepEqual(r.take(), [], "taken once");
  r.resendLater(81_000);
  assert.deepEqual(r.take(), [], "nothing sent since");
  const none = new RecentEvents(0);
  none.noteSent(event(4), 0);
  none.resendLater(0);
  assert.deepEqual(none.take(), []);
});

test("recent events are bounded: at most 10,000 kept whatever the rate", () => {
  const r = new RecentEvents(3_600_000);
  for (let i = 0; i < 12_000; i++) r.noteSent(event(i), i);
  r.resendLater(12_000);
  const again = r.take();
  assert.equal(again.length, 10_000);
  assert.equal(again[0]!.id, "spb:cam1:1:2000", "the oldest are the ones let go");
});
