import { createHash } from "node:crypto";
import { readFileSync, readdirSync } from "node:fs";
import { extname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { FastifyInstance } from "fastify";
import { empty, parse } from "./query.js";

/** The pages are plain files in the source tree, served as they are: no build step, no CDN. */
const PAGES_DIR = fileURLToPath(new URL("../../../daemon/http/pages/", import.meta.url));
const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".svg": "image/svg+xml",
};
/** Page routes and the file behind each; the detail page reads its id from the URL. */
const PAGES: Record<string, string> = {
  "/live": "live.html",
  "/defects": "defects.html",
  "/defects/:id": "defect.html",
  "/alarms": "alarms.html",
};

export function registerPageRoutes(app: FastifyInstance): void {
  const files = new Map<string, { body: Buffer; type: string; etag: string }>();
  for (const name of readdirSync(PAGES_DIR)) {
    const type = TYPES[extname(name)];
    if (!type) continue;
    const body = readFileSync(join(PAGES_DIR, name));
    files.set(name, { body, type, etag: `"${createHash("sha1").update(body).digest("hex").slice(0, 16)}"` });
  }
  const serve = (name: string) => async (req: { query: unknown; headers: Record<string, string | string[] | undefined> }, reply: import("fastify").FastifyReply) => {
    const f = files.get(name)!;
    // Revalidated on every load, so a daemon update reaches the panel without a hard refresh.
    reply.header("etag", f.etag).header("cache-control", "no-cache");
    if (req.headers["if-none-match"] === f.etag) return reply.code(304).send();
    return reply.header("content-type", f.type).send(f.body);
  };
  app.get("/", async (req, reply) => reply.redirect("/live"));
  for (const [route, name] of Object.entries(PAGES)) app.get(route, serve(name));
  for (const name of files.keys()) {
    if (name.endsWith(".html")) continue;
    app.get(`/assets/${name}`, async (req, reply) => {
      parse(empty, req.query, "parameter");
      return serve(name)(req, reply);
    });
  }
}
