import type { FastifyInstance } from "fastify";
import type { LiveFeed } from "./live-feed.js";
import type { StationMetrics } from "./metrics.js";
import { empty, liveFrameQuery, liveQuery, parse } from "./query.js";
import { httpError } from "./http-error.js";
import type { Station, StationHealth } from "./station.js";

/** One line in /healthz: its cameras all connected, its model(s), and each view's camera on a line of several. */
function lineHealth(line: string, h: StationHealth) {
  return {
    line,
    camera_connected: h.views ? h.views.every((v) => v.camera.connected) : h.camera.connected,
    model_version: h.modelVersion,
    in_flight: h.inFlight,
    paused: h.paused,
    ...(h.views && { views: h.views.map((v) => ({ view: v.name, camera_connected: v.camera.connected, model_version: v.modelVersion })) }),
  };
}

/**
 * Station health and the live view: /healthz, /metrics, /api/me, /api/live,
 * /api/events, /api/live/frame.jpg. The live view is a line's (`?line=`,
 * the first line's without it).
 */
export function registerLiveRoutes(app: FastifyInstance, station: Station, live: Map<string, LiveFeed>, metrics: StationMetrics): void {
  const feedOf = (line: string | undefined): LiveFeed => {
    const feed = line === undefined ? live.values().next().value : live.get(line);
    if (!feed) throw httpError(404, `no line '${line}' on this station (${[...live.keys()].join(", ")})`);
    return feed;
  };

  app.get("/healthz", async (req, reply) => {
    const h = station.health();
    const ok = h.state === "running";
    // A station of several lines, or a line of several cameras, says each one's: the top level is the first line's first camera.
    const lines = station.lines();
    const detail = lines.length > 1 || h.views ? { lines: lines.map((l) => lineHealth(l.name, l.health())) } : {};
    return reply
      .code(ok ? 200 : 503)
      .header("cache-control", "no-store")
      .send({ status: ok ? "ok" : "unavailable", state: h.state, camera_connected: h.camera.connected, model_version: h.modelVersion, threads: h.threads, ...detail });
  });

  app.get("/metrics", async (req, reply) => {
    parse(empty, req.query, "parameter");
    const text = await metrics.text();
    return reply.header("content-type", metrics.registry.contentType).header("cache-control", "no-store").send(text);
  });

  app.get("/api/me", async (req) => {
    parse(empty, req.query, "parameter");
    return { name: req.principal.name, role: req.principal.role };
  });

  app.get("/api/live", async (req, reply) => {
    const { line } = parse(liveQuery, req.query, "parameter");
    return reply.header("cache-control", "no-store").send(feedOf(line).status());
  });

  app.get("/api/events", async (req, reply) => {
    const { line } = parse(liveQuery, req.query, "parameter");
    const live = feedOf(line);
    if (live.full()) throw httpError(503, "too many live viewers; try again later");
    reply.hijack();
    live.subscribe(reply.raw);
  });

  app.get("/api/live/frame.jpg", async (req, reply) => {
    const { seq, line } = parse(liveFrameQuery, req.query, "parameter");
    const jpeg = feedOf(line).frame(seq === undefined ? undefined : Number(seq));
    if (!jpeg) throw httpError(404, seq === undefined ? "no frame yet: the live view encodes one while it is watched" : `frame ${seq} is no longer kept`);
    return reply.header("content-type", "image/jpeg").header("cache-control", "no-store").send(jpeg);
  });
}
