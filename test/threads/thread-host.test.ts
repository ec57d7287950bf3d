import { test } from "node:test";
import assert from "node:assert/strict";
import { ThreadHost } from "../../daemon/threads/thread-host.js";
import { threadHealth } from "../../daemon/threads/thread-health.js";
import { threadCpu } from "../../daemon/threads/thread-cpu.js";
import { THREADS, type CrashPolicy, type ThreadDeclaration } from "../../daemon/threads/crash-policy.js";
import { EdgeError } from "../../daemon/util/errors.js";
import { quietLog } from "../fakes/quiet-log.js";
import type { TestThread, TestThreadStart } from "../fakes/threads/test-thread.js";

const URL_ = new URL("../fakes/threads/test-thread.js", import.meta.url);
const RESTART: CrashPolicy = { on: "restart", initialMs: 20, maxMs: 200, means: "requests in flight fail; the next is answered by the new thread" };
const STAY_DOWN: CrashPolicy = { on: "stay-down", means: "the thread stays down" };

function host(start: TestThreadStart, o: { policy?: CrashPolicy; startTimeoutMs?: number; hangMs?: number; stopHangs?: boolean; events?: number[] } = {}) {
  // Declared with the writer's codes, under the policy the test gives.
  const declaration: ThreadDeclaration = { ...THREADS.writer, policy: o.policy ?? STAY_DOWN };
  return new ThreadHost<TestThread>(
    {
      name: "tester",
      declaration,
      url: URL_,
      workerData: { start, stopHangs: o.stopHangs },
      // Generous: the machine may be loaded; the never-ready case waits for all of it.
      startTimeoutMs: o.startTimeoutMs ?? 20_000,
      stopGraceMs: 300,
      ...(o.hangMs ? { hangMs: o.hangMs } : {}),
      onEvent: (e) => o.events?.push(e.n),
    },
    quietLog(),
  );
}

async function rejectsWith(p: Promise<unknown>, code: string, message?: RegExp): Promise<EdgeError> {
  const err = await p.then(
    () => assert.fail(`expected ${code}`),
    (e: unknown) => e as EdgeError,
  );
  assert.ok(err instanceof EdgeError, `an EdgeError, not ${String(err)}`);
  assert.equal(err.code, code, err.message);
  if (message) assert.match(err.message, message);
  return err;
}

async function until(what: () => boolean, ms = 30_000): Promise<void> {
  const t0 = Date.now();
  while (!what()) {
    if (Date.now() - t0 > ms) assert.fail("condition not reached");
    await new Promise((r) => setTimeout(r, 10));
  }
}

test("a thread that never says ready: a coded timeout naming the thread, and nothing left running", async () => {
  const h = host("never", { startTimeoutMs: 500 });
  await rejectsWith(h.start(), "E_STORE_OPEN_TIMEOUT", /tester thread was not ready within 500 ms/);
  assert.equal(h.health().state, "stopped");
  assert.ok(!threadHealth().some((t) => t.name === "tester"), "a thread that never started is not in health");
});

test("a thread that fails at start: its own station code, or the declared start code for an uncoded error", async () => {
  await rejectsWith(host("throw-coded").start(), "E_CAMERA_NOT_FOUND", /no such camera/);
  await rejectsWith(host("throw").start(), "E_STORE_OPEN", /the model file is corrupt/);
  await rejectsWith(host("uncaught").start(), "E_STORE_OPEN", /tester thread failed at start: a bug at load/);
  await rejectsWith(host("exit").start(), "E_STORE_OPEN", /tester thread exited \(code 2\) before it was ready/);
});

test("requests are correlated: answers out of order reach their callers; a failed request keeps its code", async () => {
  const events: number[] = [];
  const h = host("ready", { events });
  assert.equal(typeof (await h.start()).pid, "number");
  try {
    const answers = await Promise.all([50, 0, 25, 5].map((delayMs, i) => h.request("echo", { value: i, delayMs })));
    assert.deepEqual(answers, [0, 1, 2, 3]);
    await rejectsWith(h.request("fail", { code: "E_MODEL_RUN" }), "E_MODEL_RUN", /asked to fail/);
    await rejectsWith(h.request("fail", {}), "E_INTERNAL", /asked to fail/);
    for (let n = 1; n <= 3; n++) assert.ok(h.note({ type: "emit", n }));
    await until(() => events.length === 3);
    assert.deepEqual(events, [1, 2, 3], "notes and events keep their order");
    assert.equal(h.pending(), 0);
  } finally {
    await h.stop();
  }
});

test("restart policy: a crash fails what was in flight with the declared code, the next request is answered by the new thread", async () => {
  const h = host("ready", { policy: RESTART });
  const first = await h.start();
  try {
    const inFlight = h.request("echo", { value: 1, delayMs: 60_000 });
    const crash = h.request("crash", null);
    await rejectsWith(inFlight, "E_STORE_WORKER", /tester thread exited with code 5/);
    await rejectsWith(crash, "E_STORE_WORKER");
    await until(() => h.running());
    assert.equal(await h.request("echo", { value: 7, delayMs: 0 }), 7);
    const health = h.health();
    assert.equal(health.policy, "restart");
    assert.equal(health.restarts, 1);
    assert.equal(health.lastError?.code, "E_STORE_WORKER");
    assert.ok(threadHealth().some((t) => t.name === "tester" && t.restarts === 1), "visible in the process's thread health");
    assert.equal(typeof first.pid, "number");
  } finally {
    await h.stop();
  }
  assert.equal(h.health().state, "stopped");
});

test("restart policy with a hang bound: a thread that stops answering is replaced", async () => {
  const h = host("ready", { policy: RESTART, hangMs: 300 });
  await h.start();
  try {
    await rejectsWith(h.request("hang", null), "E_STORE_WORKER", /gave no answer for 300 ms/);
    await until(() => h.running());
    assert.equal(await h.request("echo", { value: 3, delayMs: 0 }), 3);
    assert.equal(h.health().restarts, 1);
  } finally {
    await h.stop();
  }
});

test("hang bound: a thread that answers requests one after another is busy, not stuck, however long the last one waited", async () => {
  const h = host("ready", { policy: RESTART, hangMs: 2000 });
  await h.start();
  try {
    // Six requests of 500 ms each, sent at once: the last is answered 3 s after
    // it was sent, 500 ms after the answer before it.
    const values = [1, 2, 3, 4, 5, 6];
    assert.deepEqual(await Promise.all(values.map((value) => h.request("busy", { value, ms: 500 }))), values);
    assert.equal(h.health().restarts, 0);
    // A request the thread does not answer is still a hang, counted from the last answer.
    await rejectsWith(h.request("hang", null), "E_STORE_WORKER", /gave no answer for 2000 ms/);
  } finally {
    await h.stop();
  }
});

test("stay-down policy: after a crash the thread is down, and every request is refused with the declared code", async () => {
  const h = host("ready", { policy: STAY_DOWN });
  await h.start();
  try {
    await rejectsWith(h.request("crash", null), "E_STORE_WORKER");
    assert.equal(h.health().state, "down");
    await rejectsWith(h.request("echo", { value: 1, delayMs: 0 }), "E_STORE_WORKER", /tester thread is down/);
    assert.equal(h.note({ type: "emit", n: 1 }), false);
    assert.equal(h.health().restarts, 0);
  } finally {
    await h.stop();
  }
});

test("stop: a thread whose stop handler never ends is terminated after the grace period; stop twice is harmless", async () => {
  const h = host("ready", { stopHangs: true });
  await h.start();
  const pending = rejectsWith(h.request("echo", { value: 1, delayMs: 60_000 }), "E_STORE_WORKER", /stopped/);
  await h.stop();
  await pending;
  assert.equal(h.health().state, "stopped");
  await h.stop();
  await rejectsWith(h.request("echo", { value: 1, delayMs: 0 }), "E_STORE_WORKER");
});

test("the process's CPU by thread: a busy worker's CPU is its own, named as its host, from the kernel's account", async () => {
  const h = host("ready");
  await h.start();
  try {
    const before = threadCpu().find((t) => t.thread === "tester");
    assert.ok(before && before.tid > 0 && before.tid !== process.pid, JSON.stringify(threadCpu()));
    assert.equal(h.health().tid, before.tid);
    const mainBefore = threadCpu().find((t) => t.thread === "main")!;
    const t0 = Date.now();
    await h.request("busy", { value: 1, ms: 300 });
    const wall = Date.now() - t0;
    const rows = threadCpu();
    const after = rows.find((t) => t.thread === "tester")!;
    const busy = after.cpu_ms - before.cpu_ms;
    const waited = rows.find((t) => t.thread === "main")!.cpu_ms - mainBefore.cpu_ms;
    // The worker spun while the main thread waited for its answer: its CPU is the larger, and no more than the wall time.
    assert.ok(busy > waited && busy <= wall + 2, `worker ${busy} ms, main ${waited} ms, wall ${wall} ms`);
    assert.equal(rows.filter((t) => t.thread === "main").length, 1);
    assert.equal(rows.find((t) => t.thread === "main")!.tid, process.pid);
    // Every other thread of the process is in one row, none counted twice.
    const tids = rows.filter((t) => t.tid > 0).map((t) => t.tid);
    assert.equal(new Set(tids).size, tids.length);
  } finally {
    await h.stop();
  }
  assert.ok(!threadCpu().some((t) => t.thread === "tester"), "a stopped thread is gone from the account");
});
