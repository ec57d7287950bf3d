import assert from "node:assert/strict";
import type { RunningStation } from "../http/station.js";
import { sleep } from "../../daemon/util/clock.js";

/**
 * Books balance and the line still takes parts: what every attack must leave
 * as it was. "Still takes parts" is a part settled after the attack, however
 * long a busy machine makes the line wait for it (bounded generously).
 */
export async function assertLineHealthy(s: RunningStation, timeoutMs = 120_000): Promise<void> {
  const settled = () => s.app.summary().accepted + s.app.summary().rejected;
  const before = settled();
  const until = Date.now() + timeoutMs;
  while (settled() === before && Date.now() < until) await sleep(50);
  const sum = s.app.summary();
  assert.equal(sum.triggered, sum.accepted + sum.rejected + sum.in_flight, "books balance");
  assert.ok(settled() > before, "the line took parts after the attack");
  assert.equal(s.app.health().state, "running");
}
