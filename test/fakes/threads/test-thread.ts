import { ThreadSide } from "../../../daemon/threads/thread-side.js";

/** What the host tests ask of their thread. */
export interface TestThread {
  ready: { pid: number };
  events: { type: "tick"; n: number };
  requests: {
    echo: { in: { value: number; delayMs: number }; out: number };
    busy: { in: { value: number; ms: number }; out: number };
    fail: { in: { code?: string }; out: never };
    crash: { in: null; out: never };
    hang: { in: null; out: never };
  };
  notes: { type: "emit"; n: number };
}

export type TestThreadStart = "ready" | "never" | "throw" | "throw-coded" | "uncaught" | "exit";

/** A thread that starts as told (workerData.start), then answers the host tests' requests. */
const thread = new ThreadSide<TestThread>();
const { start, stopHangs } = thread.data as { start: TestThreadStart; stopHangs?: boolean };

thread.serve({
  requests: {
    echo: ({ value, delayMs }) => new Promise((r) => setTimeout(() => r(value), delayMs)),
    // Holds the thread for ms, as a native inference call does: requests behind it wait.
    busy: ({ value, ms }) => {
      const until = Date.now() + ms;
      while (Date.now() < until) {
        // busy
      }
      return value;
    },
    fail: ({ code }) => {
      throw Object.assign(new Error("asked to fail"), code ? { code } : {});
    },
    crash: () => process.exit(5),
    hang: () => {
      for (;;) {
        // holds the thread, as a stuck native call does
      }
    },
  },
  note: (m) => thread.emit({ type: "tick", n: m.n }),
  stop: () => (stopHangs ? new Promise<void>(() => undefined) : undefined),
});

switch (start) {
  case "ready":
    thread.ready({ pid: process.pid });
    break;
  case "never":
    // Loaded, but never says ready: the host's start timeout ends it.
    setInterval(() => undefined, 1000);
    break;
  case "throw":
    thread.startFailed(new Error("the model file is corrupt"));
    break;
  case "throw-coded":
    thread.startFailed(Object.assign(new Error("no such camera"), { code: "E_CAMERA_NOT_FOUND" }));
    break;
  case "uncaught":
    throw new Error("a bug at load");
  case "exit":
    process.exit(2);
}
