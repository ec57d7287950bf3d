import type { ErrorCode } from "../util/error-codes.js";

/**
 * What happens when a thread dies (or, for a thread with a hang bound,
 * stops answering) while the station runs. The host applies it, logs it with
 * its meaning and shows it in health; the thread's wrapper adds what only it
 * can do (the camera marks itself disconnected, the store raises its alarm).
 */
export type CrashPolicy =
  | { on: "restart"; initialMs: number; maxMs: number; means: string }
  | { on: "stay-down"; means: string }
  | { on: "stop-and-alarm"; means: string };

export interface ThreadDeclaration {
  policy: CrashPolicy;
  /** A start that failed with no station code of its own. */
  startCode: ErrorCode;
  /** No ready handshake within the start timeout. */
  timeoutCode: ErrorCode;
  /** What requests in flight, and requests while the thread is down, are answered with. */
  downCode: ErrorCode;
}

/**
 * Every thread the daemon starts, and its declared crash policy:
 *
 * | thread | start | on a crash |
 * | --- | --- | --- |
 * | engine | ready once the model loaded and warmed up; `engine_runtime.load_timeout_ms` | restart with backoff: requests in flight fail (their parts fail safe, reason `error`), the next part is judged by the new thread |
 * | capture | ready once the source delivered its first frame; `camera.open_timeout_ms` | stay down: the camera reports disconnected, every part fails safe as `no-frame` until the station is restarted |
 * | writer | ready once the database is open and migrated; 30 s | stop writing and alarm `E_STORE_WORKER`: nothing not committed is acknowledged (no outbox entry of it exists), the outbox stops |
 *
 * The reject core (actuation/reject-core.ts) is not a Worker and has no host:
 * its thread is created inside the native addon, synchronously, so its start
 * cannot hang (a refused line or priority is a coded error, or a logged
 * warning, before start() returns). It has no crash of its own to declare: a
 * fault in it is a fault of the process, which systemd restarts
 * (`Restart=on-failure`); the parts in flight at that moment are not ejected
 * (escapes) and the outputs are at their safe level from the kernel's release
 * of the lines. The policy that would fit it, "restart the process", is the
 * unit's, not this table's.
 */
export const THREADS = {
  engine: {
    policy: {
      on: "restart",
      initialMs: 100,
      maxMs: 10_000,
      means: "requests in flight fail and their parts fail safe; the next part is judged by the new thread",
    },
    startCode: "E_MODEL_LOAD",
    timeoutCode: "E_MODEL_LOAD",
    downCode: "E_ENGINE_FAILED",
  },
  capture: {
    policy: { on: "stay-down", means: "the camera stays down and every part fails safe as no-frame until the station restarts" },
    startCode: "E_CAMERA_OPEN",
    timeoutCode: "E_CAMERA_OPEN_TIMEOUT",
    downCode: "E_CAMERA_THREAD",
  },
  writer: {
    policy: { on: "stop-and-alarm", means: "records are no longer written (alarm E_STORE_WORKER); nothing that was not written is acknowledged" },
    startCode: "E_STORE_OPEN",
    timeoutCode: "E_STORE_OPEN_TIMEOUT",
    downCode: "E_STORE_WORKER",
  },
} as const satisfies Record<string, ThreadDeclaration>;

export type ThreadName = keyof typeof THREADS;
