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
/** Page routes, the file holding each page's <main> and its title; the detail page reads its id from the URL. */
const PAGES: Record<string, { file: string; title: string }> = {
  "/live": { file: "live.html", title: "Live" },
  "/defects": { file: "defects.html", title: "Defect log" },
  "/defects/:id": { file: "defect.html", title: "Defect" },
  "/alarms": { file: "alarms.html", title: "Alarms" },
};

interface Served {
  body: Buffer;
  type: string;
  etag: string;
}

function served(body: Buffer, type: string): Served {
  return { body, type, etag: `"${createHash("sha1").update(body).digest("hex").slice(0, 16)}"` };
}

/**
 * A page is its own <main> inside layout.html (head, header, navigation),
 * put together once at start: one place for the navigation, still no build step.
 */
function composePage(layout: string, file: string, title: string): Buffer {
  const main = readFileSync(join(PAGES_DIR, file), "utf8");
  return Buffer.from(
    layout
      .replace("{{title}}", title)
      .replace("{{script}}", file.replace(/\.html$/, ".js"))
      .replace("{{main}}", main),
  );
}

export function registerPageRoutes(app: FastifyInstance): void {
  const files = new Map<string, Served>();
  for (const name of readdirSync(PAGES_DIR)) {
    const type = TYPES[extname(name)];
    if (!type || name.endsWith(".html")) continue;
    files.set(name, served(readFileSync(join(PAGES_DIR, name)), type));
  }
  const layout = readFileSync(join(PAGES_DIR, "layout.html"), "utf8");
  for (const { file, title } of Object.values(PAGES)) files.set(file, served(composePage(layout, file, title), TYPES[".html"]!));
  const serve = (name: string) => async (req: { query: unknown; headers: Record<string, string | string[] | undefined> }, reply: import("fastify").FastifyReply) => {
    const f = files.get(name)!;
    // Revalidated on every load, so a daemon update reaches the panel without a hard refresh.
    reply.header("etag", f.etag).header("cache-control", "no-cache");
    if (req.headers["if-none-match"] === f.etag) return reply.code(304).send();
    return reply.header("content-type", f.type).send(f.body);
  };
  app.get("/", async (req, reply) => reply.redirect("/live"));
  for (const [route, { file }] of Object.entries(PAGES)) app.get(route, serve(file));
  for (const name of files.keys()) {
    if (name.endsWith(".html")) continue;
    app.get(`/assets/${name}`, async (req, reply) => {
      parse(empty, req.query, "parameter");
      return serve(name)(req, reply);
    });
  }
}
