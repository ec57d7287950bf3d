import type { FastifyRequest } from "fastify";
import { httpError } from "./http-error.js";

/** Methods that only read: everything else changes state. */
const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/**
 * A request that changes state must be JSON from a page of this server.
 * An HTML form on another site can send text/plain, urlencoded or multipart
 * with the browser's cached Basic credentials, never application/json (that
 * needs a CORS preflight, which this server never grants); and a browser
 * names the page's origin in `Origin` and `Sec-Fetch-Site`, which must then
 * be this server. Clients that are not browsers send neither header and are
 * held to the content type and their credentials.
 */
export function checkStateChange(req: FastifyRequest, tls: boolean): void {
  if (SAFE_METHODS.has(req.method)) return;
  const type = req.headers["content-type"];
  const media = typeof type === "string" ? type.split(";")[0]!.trim().toLowerCase() : undefined;
  if (media !== "application/json") {
    throw httpError(415, `${req.method} needs 'content-type: application/json', got ${type === undefined ? "none" : `'${String(type).slice(0, 80)}'`}`);
  }
  const site = req.headers["sec-fetch-site"];
  if (site !== undefined && site !== "same-origin" && site !== "none") {
    throw httpError(403, `cross-site request refused (sec-fetch-site: ${String(site).slice(0, 40)})`);
  }
  const origin = req.headers.origin;
  if (origin !== undefined && !sameOrigin(String(origin), req.headers.host, tls)) {
    throw httpError(403, `cross-origin request refused (origin ${String(origin).slice(0, 120)} is not this server)`);
  }
}

/** An Origin is a bare scheme://host[:port], as the browser serialises it; anything else ("null", a path) is not this server. */
function sameOrigin(origin: string, host: string | undefined, tls: boolean): boolean {
  const scheme = tls ? "https:" : "http:";
  try {
    const from = new URL(origin);
    return from.origin === origin && from.protocol === scheme && host !== undefined && from.host === new URL(`${scheme}//${host}`).host;
  } catch {
    return false;
  }
}
