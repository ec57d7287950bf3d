import type { CrashPolicy } from "./crash-policy.js";

export type ThreadState = "created" | "starting" | "running" | "restarting" | "down" | "stopping" | "stopped";

/** One thread as health shows it. */
export interface ThreadHealth {
  name: string;
  state: ThreadState;
  policy: CrashPolicy["on"];
  restarts: number;
  /** Its kernel thread id while it runs (Linux). */
  tid?: number;
  lastError?: { code: string; message: string; timeMs: number };
}

interface HasHealth {
  health(): ThreadHealth;
}

const live = new Set<HasHealth>();

export function registerThread(host: HasHealth): void {
  live.add(host);
}

export function unregisterThread(host: HasHealth): void {
  live.delete(host);
}

/** Every thread of this process that was started and not yet stopped, a thread that went down included. */
export function threadHealth(): ThreadHealth[] {
  return [...live].map((h) => h.health());
}
