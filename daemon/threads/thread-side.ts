import { parentPort, workerData } from "node:worker_threads";
import { errorCode, errorMessage } from "../util/errors.js";
import { osThreadId } from "./thread-cpu.js";
import type { HostMessage, ThreadMessage, ThreadSpec } from "./protocol.js";

export type RequestHandlers<S extends ThreadSpec> = {
  [K in keyof S["requests"]]: (body: S["requests"][K]["in"]) => S["requests"][K]["out"] | Promise<S["requests"][K]["out"]>;
};

export interface ThreadHandlers<S extends ThreadSpec> {
  requests?: Partial<RequestHandlers<S>>;
  note?: (body: S["notes"]) => void;
  /** Runs when the host asks the thread to end; the thread ends after it. */
  stop?: () => void | Promise<void>;
}

/**
 * The thread's side of a ThreadHost. The thread starts its work, then says
 * ready() or startFailed(); its handlers answer the host's requests (a thrown
 * error is answered with its code) until the host asks it to stop.
 */
export class ThreadSide<S extends ThreadSpec> {
  readonly data: unknown = workerData;
  private readonly port = parentPort!;
  private handlers: ThreadHandlers<S> = {};

  constructor() {
    this.port.on("message", (m: HostMessage<S>) => void this.onMessage(m));
  }

  serve(handlers: ThreadHandlers<S>): void {
    this.handlers = handlers;
  }

  ready(info: S["ready"]): void {
    const tid = osThreadId();
    this.post({ type: "ready", info, ...(tid !== undefined && { tid }) });
  }

  /** Reports the failure and ends the thread. */
  startFailed(err: unknown): void {
    this.post({ type: "start-failed", code: errorCode(err), message: errorMessage(err) });
    this.port.close();
  }

  emit(event: S["events"]): void {
    this.post({ type: "event", body: event });
  }

  private post(m: ThreadMessage<S>): void {
    this.port.postMessage(m);
  }

  private async onMessage(m: HostMessage<S>): Promise<void> {
    switch (m.type) {
      case "note":
        this.handlers.note?.(m.body);
        return;
      case "stop":
        try {
          await this.handlers.stop?.();
        } finally {
          this.port.close();
        }
        return;
      case "request": {
        const handler = this.handlers.requests?.[m.name] as ((body: unknown) => unknown) | undefined;
        try {
          if (!handler) throw new Error(`no request ${m.name}`);
          this.post({ type: "reply", id: m.id, value: await handler(m.body) });
        } catch (err) {
          this.post({ type: "reply-failed", id: m.id, code: errorCode(err), message: errorMessage(err) });
        }
        return;
      }
    }
  }
}
