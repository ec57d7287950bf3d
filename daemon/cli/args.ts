import { parseArgs, type ParseArgsConfig } from "node:util";
import { durationMs } from "../records/queries.js";
import { EdgeError } from "../util/errors.js";
import { parseIsoTime } from "../util/iso-time.js";

/** Where the daemon and the operator commands look for the config by default. */
export const DEFAULT_CONFIG = "/etc/edge-inspect/config.yaml";

/** A command-line mistake: main prints it with a help hint and exits 64. */
export function usageError(message: string): EdgeError {
  return new EdgeError("E_USAGE", message);
}

/** Strict parsing with `-h/--help` on every command; a mistake is a usage error. */
export function parseCommand<T extends NonNullable<ParseArgsConfig["options"]>>(args: string[], options: T, positionals = false) {
  try {
    return parseArgs({ args, options: { ...options, help: { type: "boolean", short: "h" } }, allowPositionals: positionals, strict: true });
  } catch (err) {
    throw usageError((err as Error).message);
  }
}

/** A numeric option: undefined when absent, a usage error when it is not `what`. */
export function numberArg(name: string, v: string | undefined, ok: (n: number) => boolean, what: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (v.trim() === "" || !Number.isFinite(n) || !ok(n)) throw usageError(`--${name} must be ${what}, got '${v}'`);
  return n;
}

/** `--since`: how far back (90s, 15m, 1h, 7d) or from when (an ISO 8601 date or time, checked as the API checks it). */
export function sinceArg(v: string, now = Date.now()): number {
  if (!/^\d{4}-/.test(v)) return now - durationMs(v);
  const t = parseIsoTime(v);
  if ("error" in t) throw usageError(`--since '${v}' is not a time: ${t.error}`);
  return t.ms;
}
