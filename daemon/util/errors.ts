import { isErrorCode, type ErrorCode } from "./error-codes.js";

/**
 * Errors carry a stable code (one of ERROR_CODES) so that logs, MQTT
 * replies, exit codes and tests can tell them apart without parsing messages.
 */
export class EdgeError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = "EdgeError";
  }
}

export function errorCode(err: unknown): string {
  if (err instanceof EdgeError) return err.code;
  if (err && typeof err === "object" && "code" in err && typeof err.code === "string") return err.code;
  return "E_INTERNAL";
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** The station's code of an error passed on, or `fallback` for anything else (an errno, a library's own code). */
export function stationCode(err: unknown, fallback: ErrorCode): ErrorCode {
  const code = (err as { code?: unknown } | undefined)?.code;
  return isErrorCode(code) ? code : fallback;
}
