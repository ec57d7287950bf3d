import assert from "node:assert/strict";

/** Asserts that `p` rejects (or `fn` throws) with an error whose code is one of `codes`. */
export async function rejectsCoded(p: Promise<unknown> | (() => unknown), codes: string[], what: string): Promise<void> {
  const err = await (async () => (typeof p === "function" ? p() : p))().then(
    () => undefined,
    (e: unknown) => e as { code?: unknown; message?: unknown },
  );
  assert.ok(err, `${what}: expected a coded error (${codes.join(" or ")}), it succeeded`);
  assert.ok(typeof err.code === "string" && codes.includes(err.code), `${what}: code ${String(err.code)} (${String(err.message)}), wanted ${codes.join(" or ")}`);
}

export async function until(what: string, cond: () => boolean, timeoutMs = 30_000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > timeoutMs) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
