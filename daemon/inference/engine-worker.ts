import { ThreadSide } from "../threads/thread-side.js";
import type { Backend, CreateBackend, EngineThread } from "./backend.js";

/** Hosts one backend in a worker thread; see WorkerEngine for the other side. */
const thread = new ThreadSide<EngineThread>();
const { module, options } = thread.data as { module: string; options: unknown };

let backend: Backend | undefined;
try {
  const mod = (await import(module)) as { createBackend?: CreateBackend };
  if (typeof mod.createBackend !== "function") throw new Error(`${module} does not export createBackend()`);
  backend = await mod.createBackend(options);
} catch (err) {
  thread.startFailed(err);
}

if (backend) {
  const b = backend;
  thread.serve({
    requests: {
      infer: ({ slot, offset, bytes, ...frame }) => b.infer({ ...frame, data: new Uint8Array(slot, offset, bytes) }),
    },
    stop: () => b.close?.(),
  });
  thread.ready(b.info);
}
