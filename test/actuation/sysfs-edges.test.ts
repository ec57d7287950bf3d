import { test } from "node:test";
import assert from "node:assert/strict";
import { edgesSince } from "../../daemon/actuation/sysfs-edges.js";

// What the onoff driver makes of a sysfs notification, against the level it
// last read. The real case (a photo-eye pulse over before a stalled event loop
// read the line) runs against the kernel in the hardware lane (onoff.vm.ts).
test("a changed level is the one edge to it", () => {
  assert.deepEqual(edgesSince(false, true), [true]);
  assert.deepEqual(edgesSince(true, false), [false]);
});

test("the same level again is a whole pulse the reader was late for: both edges, in order", () => {
  assert.deepEqual(edgesSince(false, false), [true, false]);
  assert.deepEqual(edgesSince(true, true), [false, true]);
});
