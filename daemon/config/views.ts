import { isPlainObject, mergeDefaults } from "./merge.js";
import type { LinesProblem } from "./lines.js";

/**
 * A line's views: several cameras looking at the same part (top and bottom,
 * two sides of a bottle). `views:` maps each view's name to its `camera`
 * and, if it needs a model of its own, its `engine`; the line's `camera` and
 * `engine` are defaults merged into each view (as the station's sections are
 * into each line). A line without `views:` has one view, its camera.
 */

/** A view's name is a record field, a metric label and a snapshot caption. */
const VIEW_NAME = /^[A-Za-z0-9_-]{1,64}$/;
/** One trigger captures from every view: more cameras than a board reads at line rate is a mistake. */
export const MAX_VIEWS = 8;
/** What a view may set; the rest (trigger, decide, actuation) is its line's. */
const VIEW_SECTIONS = ["camera", "engine"] as const;

/**
 * Merges the line's `camera` and `engine` into each view of `raw` (a line's
 * merged raw config), in place; `path` is where the line's sections are.
 * Without a `camera`/`engine` of the line's own, the first view's are the
 * line's (what a line with one camera reports and is checked by). A view
 * with a problem is left out, so that the schema does not say it again.
 */
export function expandViews(raw: Record<string, unknown>, path: (string | number)[]): LinesProblem[] {
  const views = raw.views;
  if (views === undefined) return [];
  const at = (...p: (string | number)[]) => [...path, "views", ...p];
  if (!isPlainObject(views) || Object.keys(views).length === 0) {
    // Said once here; the schema is not asked about it again.
    delete raw.views;
    return [{ path: at(), message: "must map each view's name to its camera, e.g. views: { top: { camera: ... }, bottom: { camera: ... } }" }];
  }
  const names = Object.keys(views);
  const problems: LinesProblem[] = [];
  if (names.length > MAX_VIEWS) problems.push({ path: at(), message: `${names.length} views: at most ${MAX_VIEWS} cameras on one line` });
  const out: Record<string, unknown> = {};
  for (const name of names) {
    const own = views[name] ?? {};
    if (!VIEW_NAME.test(name)) {
      problems.push({ path: at(name), message: "a view name is 1-64 letters, digits, '_' or '-'" });
      continue;
    }
    if (!isPlainObject(own)) {
      problems.push({ path: at(name), message: `must be a mapping of the view's ${VIEW_SECTIONS.join(" and ")}` });
      continue;
    }
    const foreign = Object.keys(own).filter((k) => !(VIEW_SECTIONS as readonly string[]).includes(k));
    for (const k of foreign) problems.push({ path: at(name, k), message: `'${k}' is not a view's section (a view sets its ${VIEW_SECTIONS.join(" and ")}; the rest is its line's)` });
    if (foreign.length > 0) continue;
    const view: Record<string, unknown> = {};
    for (const s of VIEW_SECTIONS) {
      const merged = mergeDefaults({ [s]: raw[s] }, own[s] === undefined ? {} : { [s]: own[s] })[s];
      if (merged !== undefined) view[s] = merged;
    }
    out[name] = view;
  }
  raw.views = out;
  const first = out[names[0]!] as Record<string, unknown> | undefined;
  for (const s of VIEW_SECTIONS) if (raw[s] === undefined && first?.[s] !== undefined) raw[s] = first[s];
  return problems;
}
