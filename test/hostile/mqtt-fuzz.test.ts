import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { COMMAND_NAMES, Commands, type CommandTarget } from "../../daemon/publish/commands.js";
import { MemoryPublisher } from "../../daemon/publish/memory-publisher.js";
import type { IncomingMessage } from "../../daemon/publish/publisher.js";
import { topic } from "../../daemon/publish/topics.js";
import { quietLog } from "../fakes/quiet-log.js";

const station = { site: "plant", line: "l1", device: "cam1" };
const PREFIXES = [topic(station, "replies/"), "replies/"];
/** The seed the CI run always covers; a second run takes a fresh one and prints it. */
const FIXED_SEED = 1_510_042;
const TIME_LIMIT_MS = 2500;
/** The fixed seed's inputs, every one of them, however long a busy machine takes. */
const FIXED_RUNS = 300;

/** What the station's handler may act on: every call is recorded, none can fail the line. */
function stubTarget(ready: { now: boolean }): CommandTarget & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    notReady: () => (ready.now ? undefined : "starting"),
    pause: () => void calls.push("pause"),
    resume: () => void calls.push("resume"),
    defectClasses: () => ["scratch", "crack"],
    setThreshold: (cls, value) => {
      calls.push("set-threshold");
      const v = value ?? 0.5;
      return { threshold: cls ? 0.5 : v, thresholds: cls ? { [cls]: v } : {} };
    },
    testReject: async () => (calls.push("test-reject"), new Date().toISOString()),
    snapshot: async () => (calls.push("snapshot"), "run/0/1.jpg"),
    reloadConfig: async () => (calls.push("reload-config"), { applied: [] }),
    swapModel: async () => {
      calls.push("swap-model");
      throw Object.assign(new Error("no such package"), { code: "E_MODEL_LOAD" });
    },
  };
}

const text = fc.oneof(fc.string(), fc.string({ unit: "binary" }), fc.constantFrom("operator-1", "mallory", "", "replies/#", "$SYS/x", "\u0000", "\ud800"));
const value = fc.oneof(text, fc.double(), fc.integer(), fc.boolean(), fc.constant(null), fc.array(text, { maxLength: 3 }), fc.dictionary(text, text, { maxKeys: 3 }));
const fields = fc.constantFrom("from", "request_id", "class", "threshold", "package", "line", "failsafe", "__proto__", "constructor", "pulse_ms");
const payload = fc.oneof(
  fc.dictionary(fields, value, { maxKeys: 5 }).map((o) => Buffer.from(JSON.stringify(o))),
  fc.json().map((j) => Buffer.from(j)),
  fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)),
  fc.integer({ min: 1, max: 3000 }).map((n) => Buffer.from("[".repeat(n))),
  fc.tuple(fc.constantFrom("from", "threshold"), value, value).map(([k, a, b]) => Buffer.from(`{"${k}":${JSON.stringify(a)},"${k}":${JSON.stringify(b)}}`)),
  fc.string({ maxLength: 2000 }).map((s) => Buffer.from(JSON.stringify({ from: "operator-1", request_id: s }))),
);
const message = fc.record({
  name: fc.oneof(fc.constantFrom(...COMMAND_NAMES), text),
  payload,
  from: fc.option(fc.oneof(text, fc.array(text, { minLength: 2, maxLength: 3 })), { nil: undefined }),
  junk: fc.dictionary(text, text, { maxKeys: 4 }),
  responseTopic: fc.option(fc.oneof(text, text.map((t) => `replies/${t}`), fc.constantFrom("replies/#", "replies/a/+", topic(station, "status"))), { nil: undefined }),
  correlationData: fc.option(fc.uint8Array({ maxLength: 400 }).map((b) => Buffer.from(b)), { nil: undefined }),
  contentType: fc.option(fc.oneof(text, fc.constant("application/json")), { nil: undefined }),
  retain: fc.boolean(),
  ready: fc.boolean(),
});

async function fuzz(seed: number, bound: { numRuns: number } | { timeLimitMs: number }): Promise<number> {
  const publisher = new MemoryPublisher();
  await publisher.connect();
  const ready = { now: true };
  const target = stubTarget(ready);
  const commands = new Commands(
    { station, allow: ["operator-1"], maxPayloadBytes: 1024, replyPrefixes: ["replies/"], rate: { per_s: 1e4, burst: 100_000 }, rates: {} },
    target,
    publisher,
    quietLog(),
  );
  let runs = 0;
  await fc.assert(
    fc.asyncProperty(message, async (g) => {
      runs++;
      ready.now = g.ready;
      const m: IncomingMessage = {
        topic: topic(station, `cmd/${g.name}`),
        payload: g.payload,
        userProperties: { ...g.junk, ...(g.from !== undefined && { from: g.from }) },
        responseTopic: g.responseTopic,
        correlationData: g.correlationData,
        contentType: g.contentType,
        retain: g.retain,
      };
      const c = commands.counts;
      const [handled, answered, calls] = [c.accepted + c.refused, publisher.published + c.repliesDropped, target.calls.length];
      await commands.handle(m);
      // Every input is handled once and answered once (or its reply counted as dropped).
      assert.equal(c.accepted + c.refused, handled + 1);
      assert.equal(publisher.published + c.repliesDropped, answered + 1);
      const reply = publisher.received.at(-1)!;
      const body = JSON.parse(reply.payload) as { ok: boolean; error?: { code: string } };
      if (!body.ok) assert.match(body.error!.code, /^E_(CMD|MODEL)_[A-Z_]+$/, JSON.stringify(body));
      // Only the allowed identity, READY and without the retain flag, ever acts.
      if (target.calls.length > calls) assert.ok(g.ready && !g.retain);
      // The reply never goes where the broker would disconnect the station, or outside the reply prefixes.
      assert.ok(!/[+#]/.test(reply.topic) && !reply.topic.startsWith("$"), reply.topic);
      assert.ok(reply.topic.startsWith(topic(station, "cmd/")) || PREFIXES.some((p) => reply.topic.startsWith(p)), reply.topic);
    }),
    "numRuns" in bound ? { seed, numRuns: bound.numRuns } : { seed, numRuns: 1_000_000, interruptAfterTimeLimit: bound.timeLimitMs, markInterruptAsFailure: false },
  );
  return runs;
}

test(`fuzzing the command handler: ${FIXED_RUNS} inputs of seed ${FIXED_SEED}, then ${TIME_LIMIT_MS} ms of a fresh seed: every input gets a coded reply or a counted drop, none throws`, async () => {
  const fresh = Date.now() % 2_147_483_647;
  const fixedRuns = await fuzz(FIXED_SEED, { numRuns: FIXED_RUNS });
  const freshRuns = await fuzz(fresh, { timeLimitMs: TIME_LIMIT_MS });
  console.log(`command fuzz: ${fixedRuns} inputs with seed ${FIXED_SEED}, ${freshRuns} with seed ${fresh}`);
  assert.equal(fixedRuns, FIXED_RUNS);
  assert.ok(freshRuns > 0);
});
