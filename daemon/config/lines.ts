import { isPlainObject, mergeDefaults } from "./merge.js";
import { expandViews } from "./views.js";

/**
 * A station with several lines: `lines:` maps each line's name to its own
 * sections (what LINE_SECTIONS lists); those sections at the top level are
 * defaults, deep-merged into every line (as Frigate does for cameras). The
 * station's sections (records, publish, http, lifecycle, log, data_dir,
 * station) stay at the top level only. A file without `lines:` is one line
 * named after `station.line`.
 */

/** What a line may set for itself; every other top-level key is the station's. */
export const LINE_SECTIONS = ["line", "camera", "views", "trigger", "engine", "engine_runtime", "decide", "actuation", "snapshots"] as const;

/** Line names are topic levels, metric labels and directory names: the station identifier's alphabet. */
const LINE_NAME = /^[A-Za-z0-9_-]{1,64}$/;
/** More lines than one board could watch is a mistake in the file, not a station. */
export const MAX_LINES = 16;

export interface RawLine {
  name: string;
  /** The line's effective raw config: the station's sections, the defaults and its own, merged. */
  raw: Record<string, unknown>;
}

export interface LinesProblem {
  path: (string | number)[];
  message: string;
}

/** The raw config of each line, or the problems that stop the file from being read as lines. */
export function splitLines(raw: Record<string, unknown>): { lines: RawLine[]; problems: LinesProblem[] } {
  const { lines, ...base } = raw;
  const problems: LinesProblem[] = [];
  if (lines === undefined) {
    problems.push(...expandViews(base, []));
    return { lines: [{ name: lineName(base), raw: base }], problems };
  }
  if (!isPlainObject(lines) || Object.keys(lines).length === 0) {
    return { lines: [], problems: [{ path: ["lines"], message: "must map each line's name to its sections, e.g. lines: { lane1: { camera: ... } }" }] };
  }
  const names = Object.keys(lines);
  if (names.length > MAX_LINES) problems.push({ path: ["lines"], message: `${names.length} lines: at most ${MAX_LINES} on one station` });
  const station = base.station;
  if (isPlainObject(station) && station.line !== undefined) {
    problems.push({ path: ["station", "line"], message: "with lines:, each line is named by its key under lines: leave station.line out" });
  }
  const out: RawLine[] = [];
  for (const name of names) {
    const own = lines[name];
    if (!LINE_NAME.test(name)) {
      problems.push({ path: ["lines", name], message: "a line name is 1-64 letters, digits, '_' or '-' (it is a topic level and a metric label)" });
      continue;
    }
    if (own !== null && own !== undefined && !isPlainObject(own)) {
      problems.push({ path: ["lines", name], message: `must be a mapping of the line's sections (${LINE_SECTIONS.join(", ")})` });
      continue;
    }
    const sections = (own ?? {}) as Record<string, unknown>;
    const foreign = Object.keys(sections).filter((k) => !(LINE_SECTIONS as readonly string[]).includes(k));
    for (const k of foreign) problems.push({ path: ["lines", name, k], message: `'${k}' is not a line's section (a line sets ${LINE_SECTIONS.join(", ")}; the rest is the station's, at the top level)` });
    if (foreign.length > 0) continue;
    const merged = mergeDefaults(base, sections);
    merged.station = { ...(isPlainObject(station) ? station : {}), line: name };
    problems.push(...expandViews(merged, ["lines", name]));
    out.push({ name, raw: merged });
  }
  return { lines: out, problems };
}

function lineName(raw: Record<string, unknown>): string {
  const s = raw.station;
  return isPlainObject(s) && typeof s.line === "string" ? s.line : "line1";
}
