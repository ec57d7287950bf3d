import { createRequire } from "node:module";
import { EdgeError, errorMessage } from "../util/errors.js";

/** native/gpio-cdev: the kernel's GPIO character device (uAPI v2), one request per line. */
export interface GpioCdevBinding {
  chipOpen(path: string): number;
  chipInfo(chipFd: number): { name: string; label: string; lines: number };
  lineInfo(chipFd: number, offset: number): { offset: number; name: string; consumer: string; flags: number };
  /** Returns the line request's fd. Values are logical: ACTIVE_LOW makes the kernel invert them. */
  lineRequest(chipFd: number, offset: number, flags: number, value: 0 | 1, consumer: string, debounceUs: number): number;
  lineSet(requestFd: number, active: boolean): void;
  lineGet(requestFd: number): boolean;
  close(fd: number): void;
  /** CLOCK_MONOTONIC in ms: the clock of edge timestamps and of process.hrtime (util/clock). */
  monotonicMs(): number;
  /** Edges as the kernel stamped them; the handle does not keep the process alive. */
  watch(requestFd: number, callback: (err: Error | undefined, rising: boolean, tMs: number, lineSeqno: number) => void): object;
  unwatch(handle: object): void;
  readonly FLAGS: { USED: number; ACTIVE_LOW: number; INPUT: number; OUTPUT: number; EDGE_RISING: number; EDGE_FALLING: number };
}

let loaded: GpioCdevBinding | undefined;

/** Loaded on use (any thread): a station on sysfs or simulated GPIO never needs it. */
export function gpioCdev(): GpioCdevBinding {
  if (loaded) return loaded;
  const path = new URL("../../../build/gpio-cdev/gpio_cdev.node", import.meta.url).pathname;
  try {
    loaded = createRequire(import.meta.url)(path) as GpioCdevBinding;
  } catch (err) {
    throw new EdgeError("E_GPIO_UNAVAILABLE", `gpiod: the GPIO character-device binding is not built (${path}; run scripts/setup.sh): ${errorMessage(err)}`, { cause: err });
  }
  return loaded;
}
