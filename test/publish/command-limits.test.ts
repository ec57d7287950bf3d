import { test } from "node:test";
import assert from "node:assert/strict";
import { CommandLimits, DEFAULT_RATES, TokenBucket } from "../../daemon/publish/command-limits.js";
import { errorCode } from "../../daemon/util/errors.js";

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return errorCode(err);
  }
  return "ok";
}

test("a token bucket gives its burst at once, then its rate", () => {
  let t = 0;
  const b = new TokenBucket({ per_s: 2, burst: 3 }, () => t);
  assert.deepEqual([b.take(), b.take(), b.take(), b.take()], [true, true, true, false]);
  t = 499;
  assert.equal(b.take(), false);
  t = 500;
  assert.equal(b.take(), true);
  t = 100_000;
  assert.deepEqual([b.take(), b.take(), b.take(), b.take()], [true, true, true, false], "never more than the burst");
});

test("limits: the overall rate, each command's rate, and one exclusive command at a time, each with its code", () => {
  let t = 0;
  const limits = new CommandLimits({ per_s: 10, burst: 3 }, { pause: { per_s: 1, burst: 2 } }, () => t);
  assert.deepEqual([0, 1, 2, 3].map(() => code(() => limits.admit())), ["ok", "ok", "ok", "E_CMD_RATE"]);
  assert.deepEqual([0, 1, 2].map(() => code(() => limits.acquire("pause")())), ["ok", "ok", "E_CMD_RATE"]);
  const done = limits.acquire("test-reject");
  t = 10_000;
  assert.equal(code(() => limits.acquire("test-reject")), "E_CMD_BUSY", "a second test pulse is refused while the first runs");
  done();
  assert.equal(code(() => limits.acquire("test-reject")), "ok");
  t = 10_000.5;
  assert.equal(code(() => limits.acquire("swap-model")), "ok");
  assert.equal(code(() => limits.acquire("reload-config")), "ok");
  assert.equal(code(() => limits.acquire("reload-config")), "E_CMD_BUSY");
  assert.ok(DEFAULT_RATES["test-reject"].per_s <= 1 && DEFAULT_RATES["reload-config"].per_s < 1 && DEFAULT_RATES["swap-model"].per_s < 1);
});
