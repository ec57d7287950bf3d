import { parentPort, workerData } from "node:worker_threads";
import { errorCode, errorMessage } from "../util/errors.js";
import type { Backend, CreateBackend, FromWorker, ToWorker } from "./backend.js";

/** Hosts one backend in a worker thread; see WorkerEngine for the other side. */
const { module, options } = workerData as { module: string; options: unknown };
const port = parentPort!;
const send = (m: FromWorker) => port.postMessage(m);

let backend: Backend;
try {
  const mod = (await import(module)) as { createBackend?: CreateBackend };
  if (typeof mod.createBackend !== "function") throw new Error(`${module} does not export createBackend()`);
  backend = await mod.createBackend(options);
  send({ type: "ready", info: backend.info });
} catch (err) {
  send({ type: "load-error", code: errorCode(err), message: errorMessage(err) });
  process.exit(1);
}

port.on("message", async (msg: ToWorker) => {
  if (msg.type === "close") {
    await backend.close?.();
    port.close();
    return;
  }
  try {
    const { slot, offset, bytes, ...frame } = msg.frame;
    const result = await backend.infer({ ...frame, data: new Uint8Array(slot, offset, bytes) });
    send({ type: "result", id: msg.id, result });
  } catch (err) {
    send({ type: "error", id: msg.id, code: errorCode(err), message: errorMessage(err) });
  }
});
