import type { FastifyRequest } from "fastify";

/** An error answered with this status and message (4xx), never with internals. */
export function httpError(statusCode: number, message: string): Error {
  return Object.assign(new Error(message), { statusCode });
}

/** Refuses a request whose principal may only look. */
export function requireOperator(req: FastifyRequest): void {
  if (req.principal.role !== "operator") throw httpError(403, `'${req.principal.name}' may only view: this needs the operator role`);
}
