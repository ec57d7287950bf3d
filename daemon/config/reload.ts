import type { Config } from "./schema.js";

/**
 * Sections a running station takes from a reloaded config between two parts:
 * thresholds, snapshots, log level, and the model (through a hot swap).
 * Anything else (camera, line timing, outputs, store, broker) changes what
 * parts already on the belt were promised, so it waits for a restart.
 */
export const LIVE_SECTIONS: readonly string[] = ["decide", "engine", "snapshots", "log"];

/** Top-level sections whose content differs, sorted. */
export function changedSections(a: Config, b: Config): string[] {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].filter((k) => JSON.stringify(a[k as keyof Config]) !== JSON.stringify(b[k as keyof Config])).sort();
}
