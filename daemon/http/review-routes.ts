import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { isAbsolute, join, normalize } from "node:path";
import { Readable } from "node:stream";
import type { FastifyInstance } from "fastify";
import { csvLine } from "./csv.js";
import { httpError, requireOperator } from "./http-error.js";
import { alarmListQuery, defectExportQuery, defectListQuery, empty, encodeCursor, idParams, parse, toFilter, verdictBody } from "./query.js";
import { allDefects, type DefectSummary, type Review } from "../records/review.js";
import { errorCode } from "../util/errors.js";

const CSV_COLUMNS = ["id", "time", "run_id", "part_id", "class", "score", "model_version", "failsafe", "operator_verdict", "snapshot"];

const snapshotUrl = (d: DefectSummary) => (d.has_snapshot ? `/api/snapshots/${d.id}.jpg` : null);
const withUrl = <T extends DefectSummary>(d: T) => ({ ...d, time: new Date(d.time_ms).toISOString(), snapshot: snapshotUrl(d) });

/** The defect log, defect detail, operator verdicts, CSV export, snapshots and alarms. */
export function registerReviewRoutes(app: FastifyInstance, review: Review): void {
  app.get("/api/defects", async (req) => {
    const q = parse(defectListQuery, req.query, "parameter");
    const page = review.defects(toFilter(q), q.limit, q.before);
    return { items: page.items.map(withUrl), next: encodeCursor(page.next) };
  });

  app.get("/api/defects.csv", async (req, reply) => {
    const filter = toFilter(parse(defectExportQuery, req.query, "parameter"));
    async function* rows(): AsyncGenerator<string> {
      yield csvLine(CSV_COLUMNS);
      for await (const page of allDefects(review, filter)) {
        yield page
          .map((d) =>
            csvLine([d.id, new Date(d.time_ms).toISOString(), d.run_id, d.part_id, d.class, d.score, d.model_version, d.failsafe, d.operator_verdict, snapshotUrl(d)]),
          )
          .join("");
      }
    }
    const stamp = new Date().toISOString().replace(/[:.]/g, "-");
    return reply
      .header("content-type", "text/csv; charset=utf-8")
      .header("content-disposition", `attachment; filename="defects-${stamp}.csv"`)
      .header("cache-control", "no-store")
      .send(Readable.from(rows()));
  });

  app.get("/api/classes", async (req) => {
    parse(empty, req.query, "parameter");
    return { classes: review.classes() };
  });

  app.get("/api/defects/:id", async (req) => {
    parse(empty, req.query, "parameter");
    const { id } = parse(idParams, req.params, "parameter");
    const d = review.defect(id);
    if (!d) throw httpError(404, `no inspection ${id}`);
    return withUrl(d);
  });

  app.put("/api/defects/:id/verdict", async (req) => {
    parse(empty, req.query, "parameter");
    const { id } = parse(idParams, req.params, "parameter");
    requireOperator(req);
    const { verdict } = parse(verdictBody, req.body, "field");
    if (!(await operatorWrite(review.setVerdict(id, verdict, req.principal.name)))) throw httpError(404, `no rejected part with id ${id}`);
    return { id, operator_verdict: verdict, operator: req.principal.name };
  });

  app.get("/api/snapshots/:file", async (req, reply) => {
    parse(empty, req.query, "parameter");
    const m = /^([1-9]\d{0,15})\.jpg$/.exec((req.params as { file: string }).file);
    if (!m) throw httpError(400, "file: must be <id>.jpg");
    const rel = review.snapshotPath(Number(m[1]));
    if (!rel || !review.snapshotDir || isAbsolute(rel) || normalize(rel).startsWith("..")) throw httpError(404, `no snapshot for inspection ${m[1]}`);
    const path = join(review.snapshotDir, rel);
    const st = await stat(path).catch(() => undefined);
    if (!st) throw httpError(404, `snapshot of inspection ${m[1]} was removed by retention`);
    // The file name holds run and part, so it never changes content: the ETag is the name and size.
    const etag = `"${rel.replace(/[^\w.-]/g, "_")}-${st.size}"`;
    reply.header("etag", etag).header("cache-control", "private, max-age=86400").header("last-modified", st.mtime.toUTCString());
    if (req.headers["if-none-match"] === etag) return reply.code(304).send();
    return reply.header("content-type", "image/jpeg").header("content-length", st.size).send(createReadStream(path));
  });

  app.get("/api/alarms", async (req) => {
    const q = parse(alarmListQuery, req.query, "parameter");
    const page = review.alarms(q.limit, q.before);
    return { items: page.items.map((a) => ({ ...a, time: new Date(a.time_ms).toISOString() })), next: page.next };
  });

  app.post("/api/alarms/:id/ack", async (req) => {
    parse(empty, req.query, "parameter");
    const { id } = parse(idParams, req.params, "parameter");
    requireOperator(req);
    parse(empty, req.body, "field");
    const r = await operatorWrite(review.ackAlarm(id, req.principal.name));
    if (r === "missing") throw httpError(404, `no alarm ${id}`);
    if (r === "cleared") throw httpError(409, `alarm ${id} is a clearing event: there is nothing to acknowledge`);
    return { id, acked_by: req.principal.name };
  });
}

/** A write the records could not keep now (disk refusing, writer down) is "not now", with its code, never "done". */
async function operatorWrite<T>(write: Promise<T>): Promise<T> {
  try {
    return await write;
  } catch (err) {
    const code = errorCode(err);
    if (code === "E_STORE_WRITE" || code === "E_STORE_WORKER") throw httpError(503, `${code}: the records could not keep it; try again (${(err as Error).message})`);
    throw err;
  }
}
