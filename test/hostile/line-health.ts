import assert from "node:assert/strict";
import type { RunningStation } from "../http/station.js";

/** Books balance and the line still takes parts: what every attack must leave as it was. */
export function assertLineHealthy(s: RunningStation): void {
  const sum = s.app.summary();
  assert.equal(sum.triggered, sum.accepted + sum.rejected + sum.in_flight, "books balance");
  assert.ok(sum.triggered > 0, "the line took parts");
  assert.equal(s.app.health().state, "running");
}
