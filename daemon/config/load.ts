import { isMap, isScalar, LineCounter, parseDocument, type Document, type Node } from "yaml";
import type { ZodIssue } from "zod";
import { describeRefusal, readBounded, ReadRefused } from "../util/bounded-read.js";
import { EdgeError, errorMessage } from "../util/errors.js";
import { applyEnvOverlay } from "./env-overlay.js";
import { configSchema, type Config, type LineConfig } from "./schema.js";
import { LINE_SECTIONS, splitLines } from "./lines.js";
import { crossLineProblems } from "./line-conflicts.js";
import { resolveSecrets } from "./secrets.js";

export interface ConfigProblem {
  path: string;
  message: string;
  line?: number;
}

/** Thrown with every problem found, never just the first. */
export class ConfigError extends EdgeError {
  readonly problems: ConfigProblem[];
  readonly file: string;
  constructor(file: string, problems: ConfigProblem[]) {
    super("E_CONFIG", `${file}: ${problems.length} problem(s)\n${problems.map(formatProblem).join("\n")}`);
    this.file = file;
    this.problems = problems;
  }
}

export function formatProblem(p: ConfigProblem): string {
  return `${p.path || "(top level)"}: ${p.message}${p.line ? ` (line ${p.line})` : ""}`;
}

export interface LoadOptions {
  env?: NodeJS.ProcessEnv;
}

export function loadConfig(file: string, opts: LoadOptions = {}): Config {
  const env = opts.env ?? process.env;
  let data: Buffer;
  try {
    data = readBounded(file, { maxBytes: MAX_CONFIG_BYTES });
  } catch (err) {
    if (!(err instanceof ReadRefused)) throw err;
    throw new ConfigError(file, [{ path: "", message: `cannot read config: ${describeRefusal(err.refusal)}` }]);
  }
  return parseConfigText(file, decodeText(file, data), env);
}

/** A config is a few pages of YAML; a file this large is something else. */
const MAX_CONFIG_BYTES = 1024 * 1024;

/** UTF-8 text, or a problem that says what the file is instead (YAML would report the garbage line by line). */
function decodeText(file: string, data: Buffer): string {
  const problem = (message: string) => new ConfigError(file, [{ path: "", message, line: 1 }]);
  if ((data[0] === 0xff && data[1] === 0xfe) || (data[0] === 0xfe && data[1] === 0xff)) throw problem("config is UTF-16 text: save it as UTF-8");
  const nul = data.indexOf(0);
  if (nul >= 0) throw problem(`config is a binary file (a NUL byte at offset ${nul}), not YAML text`);
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(data);
  } catch {
    throw problem("config is not UTF-8 text");
  }
}

export function parseConfigText(file: string, text: string, env: NodeJS.ProcessEnv = process.env): Config {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      file,
      doc.errors.map((e) => ({ path: "", message: `YAML: ${e.message.split("\n")[0]}`, line: lineCounter.linePos(e.pos[0]).line })),
    );
  }
  let raw: unknown;
  try {
    raw = doc.toJS() ?? null;
  } catch (err) {
    // yaml refuses an alias bomb (more alias expansions than maxAliasCount) here, not while parsing.
    throw new ConfigError(file, [{ path: "", message: `YAML: ${errorMessage(err)}` }]);
  }
  if (raw === null) throw new ConfigError(file, [{ path: "", message: "config is empty: at least 'camera' and 'engine' are required" }]);
  if (typeof raw !== "object" || Array.isArray(raw)) {
    throw new ConfigError(file, [{ path: "", message: "config must be a mapping of keys to values", line: 1 }]);
  }
  const overlaid = applyEnvOverlay(raw as Record<string, unknown>, env);
  // YAML reads .inf, .nan and 1e400 as numbers that no setting can mean; the
  // schema's bounds would let Infinity through wherever a key has no maximum.
  const nonFinite = nonFinitePaths(overlaid.value).map((path): ConfigProblem => {
    const key = joinPath(path);
    const envVar = overlaid.fromEnv.get(key);
    if (envVar) return { path: key, message: `must be a finite number (from ${envVar})` };
    return { path: key, message: "must be a finite number", line: lineOf(doc, lineCounter, path, false) };
  });
  if (nonFinite.length > 0) throw new ConfigError(file, nonFinite);
  const value = overlaid.value as Record<string, unknown>;
  const split = splitLines(value);
  const problems: ConfigProblem[] = split.problems.map((p) => ({ path: joinPath(p.path), message: p.message, line: lineOf(doc, lineCounter, p.path, true) }));
  const configs: LineConfig[] = [];
  const seen = new Set<string>();
  for (const l of split.lines) {
    const result = configSchema.safeParse(l.raw);
    if (!result.success) {
      // A line's problem is in its own sections (or the defaults it took); the station's would repeat for every line.
      const inLine = (path: (string | number)[]) => (value.lines !== undefined && LINE_SECTION_SET.has(String(path[0])) ? ["lines", l.name, ...path] : path);
      for (const issue of result.error.issues) {
        for (const p of issueToProblems({ ...issue, path: inLine(issue.path) }, doc, lineCounter, overlaid.fromEnv)) {
          const key = `${p.path}\n${p.message}`;
          if (!seen.has(key)) problems.push(p);
          seen.add(key);
        }
      }
      continue;
    }
    configs.push(result.data);
  }
  if (problems.length === 0) problems.push(...crossLineProblems(configs).map((p) => ({ path: joinPath(p.path), message: p.message, line: lineOf(doc, lineCounter, p.path, false) })));
  if (problems.length > 0) throw new ConfigError(file, problems.sort((a, b) => (a.line ?? 0) - (b.line ?? 0)));
  for (const c of configs) {
    const secretProblems = resolveSecrets(c, env);
    if (secretProblems.length > 0) throw new ConfigError(file, secretProblems);
  }
  const first = configs[0]!;
  return value.lines === undefined ? first : { ...first, lines: configs };
}

const LINE_SECTION_SET: ReadonlySet<string> = new Set(LINE_SECTIONS);

function nonFinitePaths(value: unknown, at: (string | number)[] = []): (string | number)[][] {
  if (typeof value === "number") return Number.isFinite(value) ? [] : [at];
  if (Array.isArray(value)) return value.flatMap((v, i) => nonFinitePaths(v, [...at, i]));
  if (value && typeof value === "object") return Object.entries(value).flatMap(([k, v]) => nonFinitePaths(v, [...at, k]));
  return [];
}

function issueToProblems(issue: ZodIssue, doc: Document, lc: LineCounter, fromEnv: Map<string, string>): ConfigProblem[] {
  if (issue.code === "unrecognized_keys") {
    return issue.keys.map((k) => {
      const path = [...issue.path, k];
      return { path: joinPath(path), message: unknownKeyMessage(k), line: lineOf(doc, lc, path, true) };
    });
  }
  const path = joinPath(issue.path);
  const envVar = fromEnv.get(path);
  const message = issue.code === "invalid_type" && issue.received === "undefined" ? "required" : issue.message;
  if (envVar) return [{ path, message: `${message} (from ${envVar})` }];
  return [{ path, message, line: lineOf(doc, lc, issue.path, false) }];
}

function unknownKeyMessage(key: string): string {
  return `unknown key '${key}'`;
}

function joinPath(path: (string | number)[]): string {
  return path.map((p) => String(p)).join(".");
}

/**
 * The line of the node at `path`; for a key that is missing, the line of the
 * nearest parent that exists. For unknown keys, the line of the key itself.
 */
function lineOf(doc: Document, lc: LineCounter, path: (string | number)[], atKey: boolean): number | undefined {
  for (let n = path.length; n >= 0; n--) {
    const sub = path.slice(0, n);
    if (atKey && n === path.length && n > 0) {
      const parent = sub.length > 1 ? doc.getIn(sub.slice(0, -1), true) : doc.contents;
      if (isMap(parent)) {
        const pair = parent.items.find((it) => isScalar(it.key) && String(it.key.value) === String(sub[sub.length - 1]));
        const key = pair?.key as Node | undefined;
        if (key?.range) return lc.linePos(key.range[0]).line;
      }
      continue;
    }
    const node = (n === 0 ? doc.contents : doc.getIn(sub, true)) as Node | null | undefined;
    if (node && typeof node === "object" && "range" in node && node.range) return lc.linePos(node.range[0]).line;
  }
  return undefined;
}

export type { Config };
