import { z } from "zod";
import { parseIsoTime } from "../util/iso-time.js";
import { OPERATOR_VERDICTS, type Cursor, type DefectFilter } from "../records/review.js";

/** A request the client got wrong: answered with 400 and this message. */
export class BadRequest extends Error {
  readonly statusCode = 400;
}

const MAX_PAGE = 200;

/** Query values arrive as strings; a repeated parameter arrives as an array and is refused. */
const text = z.string({ invalid_type_error: "must be given once" });
const time = text.transform((s, ctx) => {
  if (/^\d{1,15}$/.test(s)) return Number(s);
  const t = parseIsoTime(s);
  if ("ms" in t) return t.ms;
  ctx.addIssue({ code: z.ZodIssueCode.custom, message: `must be an ISO 8601 time (2024-05-01T08:00:00Z) or epoch milliseconds (${t.error})` });
  return z.NEVER;
});
const count = (min: number, max: number, fallback: number) =>
  text
    .regex(/^\d{1,6}$/, "must be a whole number")
    .transform(Number)
    .pipe(z.number().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`))
    .default(String(fallback));
const id = text.regex(/^[1-9]\d{0,15}$/, "must be a positive whole number").transform(Number);
const cursor = text.regex(/^\d{1,15}\.\d{1,16}$/, "must be a cursor from a previous page's 'next'").transform((s): Cursor => {
  const [t, i] = s.split(".");
  return { timeMs: Number(t), id: Number(i) };
});

const filterShape = {
  from: time.optional(),
  to: time.optional(),
  class: text.regex(/^[A-Za-z0-9_:-]{1,64}$/, "must be a class name or failsafe:<reason>").optional(),
  verdict: text.pipe(z.enum(["unreviewed", ...OPERATOR_VERDICTS], { errorMap: () => ({ message: "must be unreviewed, confirmed or false_reject" }) })).optional(),
};
const timeOrder = <T extends { from?: number; to?: number }>(q: T) => q.from === undefined || q.to === undefined || q.from < q.to;
const timeOrderIssue = { message: "must be later than 'from'", path: ["to"] };

export const defectListQuery = z
  .object({ ...filterShape, limit: count(1, MAX_PAGE, 50), before: cursor.optional() })
  .strict()
  .refine(timeOrder, timeOrderIssue);
export const defectExportQuery = z.object(filterShape).strict().refine(timeOrder, timeOrderIssue);
export const alarmListQuery = z.object({ limit: count(1, MAX_PAGE, 50), before: id.optional() }).strict();
export const idParams = z.object({ id }).strict();
export const verdictBody = z.object({ verdict: z.enum(OPERATOR_VERDICTS, { errorMap: () => ({ message: "must be confirmed or false_reject" }) }) }).strict();
export const empty = z.object({}).strict();
const lineName = text.regex(/^[A-Za-z0-9_-]{1,64}$/, "must be a line's name").optional();
/** A line's live view; without `line`, the first line's. */
export const liveQuery = z.object({ line: lineName }).strict();
/** A frame by its sequence number (each URL distinct, so a browser never shows a cached one); without it the latest. */
export const liveFrameQuery = z.object({ seq: text.regex(/^\d{1,16}$/, "must be a whole number").optional(), line: lineName }).strict();

export function toFilter(q: { from?: number; to?: number; class?: string; verdict?: DefectFilter["verdict"] }): DefectFilter {
  const f: DefectFilter = {};
  if (q.from !== undefined) f.fromMs = q.from;
  if (q.to !== undefined) f.toMs = q.to;
  if (q.class !== undefined) f.class = q.class;
  if (q.verdict !== undefined) f.verdict = q.verdict;
  return f;
}

export function encodeCursor(c: Cursor | null): string | null {
  return c ? `${c.timeMs}.${c.id}` : null;
}

/** Parses or throws BadRequest naming every problem as `name: reason`. */
export function parse<S extends z.ZodTypeAny>(schema: S, value: unknown, what: string): z.output<S> {
  const r = schema.safeParse(value ?? {});
  if (r.success) return r.data;
  const problems = r.error.issues.map((i) => {
    if (i.code === z.ZodIssueCode.unrecognized_keys) return `unknown ${what} ${i.keys.map((k) => `'${k}'`).join(", ")}`;
    return `${i.path.length > 0 ? `${i.path.join(".")}: ` : ""}${i.message}`;
  });
  throw new BadRequest(problems.join("; "));
}
