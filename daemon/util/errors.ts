/**
 * Errors carry a stable code so that logs, MQTT replies, exit codes and tests
 * can tell them apart without parsing messages.
 */
export class EdgeError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
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
