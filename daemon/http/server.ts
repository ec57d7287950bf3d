import Fastify, { LogController, type FastifyInstance } from "fastify";
import type { HttpConfig } from "../config/schema.js";
import { describeRefusal, readBounded, ReadRefused } from "../util/bounded-read.js";
import { EdgeError, errorMessage } from "../util/errors.js";
import type { Logger } from "../util/log.js";
import { Auth, type Principal } from "./auth.js";
import { httpError } from "./http-error.js";
import { LiveFeed } from "./live-feed.js";
import { registerLiveRoutes } from "./live-routes.js";
import { StationMetrics } from "./metrics.js";
import { registerPageRoutes } from "./page-routes.js";
import { registerReviewRoutes } from "./review-routes.js";
import { checkStateChange } from "./same-origin.js";
import type { Station } from "./station.js";
import type { Review } from "../records/review.js";

declare module "fastify" {
  interface FastifyRequest {
    principal: Principal;
  }
}

/** Paths open without credentials: the watchdog and load balancers probe it. */
const OPEN_PATHS = new Set(["/healthz"]);
const REASONS: Record<number, string> = { 400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed", 409: "conflict", 413: "too_large", 415: "unsupported_media_type", 503: "unavailable" };

/**
 * The operator review server: pages, REST API, live events, /metrics and
 * /healthz. Started after the store (it reads the store's database), stopped
 * before it.
 */
export class HttpServer {
  private app: FastifyInstance | undefined;
  private review: Review | undefined;
  readonly metrics: StationMetrics;
  /** Each line's live view, by line name; the first line's first. */
  readonly live: Map<string, LiveFeed>;

  constructor(
    private readonly config: HttpConfig,
    private readonly station: Station,
    private readonly openReview: () => Review,
    private readonly log: Logger,
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {
    // Both listen from construction on, so they see every part of the run.
    this.metrics = new StationMetrics(station);
    const lines = station.lines();
    const names = lines.map((l) => l.name);
    this.live = new Map(lines.map((l) => [l.name, new LiveFeed(l, names, config.live_interval_ms, log)]));
  }

  /** Where it listens once started, e.g. http://127.0.0.1:8080. */
  url = "";

  async start(): Promise<void> {
    const c = this.config;
    const auth = new Auth(c.auth, this.env);
    const review = this.openReview();
    this.review = review;
    const app = Fastify({
      loggerInstance: this.log,
      // The live view's events and frames would flood the journal.
      logController: new LogController({ disableRequestLogging: true }),
      forceCloseConnections: true,
      bodyLimit: 16 * 1024,
      ...(c.tls ? { https: { cert: readTls(c.tls.cert, "cert"), key: readTls(c.tls.key, "key") } } : {}),
    }) as unknown as FastifyInstance;
    this.app = app;
    app.decorateRequest("principal", null as unknown as Principal);
    app.addHook("onRequest", async (req, reply) => {
      if (OPEN_PATHS.has(req.url)) return;
      const who = auth.identify(req.headers.authorization);
      if (!who) {
        reply.header("www-authenticate", auth.challenge);
        throw httpError(401, "credentials required");
      }
      req.principal = who;
      checkStateChange(req, !!c.tls);
    });
    app.setErrorHandler((err: Error & { statusCode?: number }, req, reply) => {
      // A status set on purpose (4xx, or 503 for "not here / not now") reaches the client as it is.
      const status = err.statusCode && ((err.statusCode >= 400 && err.statusCode < 500) || err.statusCode === 503) ? err.statusCode : 500;
      if (status === 500) {
        // The reason goes to the log; the client gets no stack and no internals.
        this.log.error({ err: errorMessage(err), url: req.url }, "http request failed");
        return reply.code(500).send({ error: "internal", message: "internal error; see the daemon's log" });
      }
      return reply.code(status).send({ error: REASONS[status] ?? "client_error", message: err.message });
    });
    app.setNotFoundHandler((req, reply) => reply.code(404).send({ error: "not_found", message: `no route ${req.method} ${req.url.split("?")[0]}` }));
    registerLiveRoutes(app, this.station, this.live, this.metrics);
    registerReviewRoutes(app, review);
    registerPageRoutes(app);
    try {
      const address = await app.listen({ host: c.host, port: c.port });
      this.url = address;
    } catch (err) {
      review.close();
      this.review = undefined;
      throw new EdgeError("E_HTTP_LISTEN", `cannot listen on ${c.host}:${c.port}: ${errorMessage(err)}`, { cause: err });
    }
    this.log.info({ url: this.url, auth: c.auth.users.length + c.auth.tokens.length > 0, tls: !!c.tls }, `operator review on ${this.url}`);
  }

  async stop(): Promise<void> {
    for (const feed of this.live.values()) feed.close();
    await this.app?.close();
    this.review?.close();
    this.review = undefined;
    this.app = undefined;
  }
}

/** A PEM certificate chain or key: a few kilobytes, never a device. */
const MAX_TLS_FILE_BYTES = 1024 * 1024;

function readTls(path: string, what: string): Buffer {
  try {
    return readBounded(path, { maxBytes: MAX_TLS_FILE_BYTES });
  } catch (err) {
    if (!(err instanceof ReadRefused)) throw err;
    throw new EdgeError("E_CONFIG", `http.tls.${what}: cannot read ${path}: ${describeRefusal(err.refusal)}`);
  }
}

