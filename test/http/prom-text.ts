/**
 * A strict reader of the Prometheus text exposition format (0.0.4): every
 * line must be a HELP, a TYPE or a sample of a declared family, names and
 * labels well formed, values numbers, histograms complete and cumulative.
 * Throws on the first line that is not.
 */
export interface Family {
  name: string;
  help: string;
  type: "counter" | "gauge" | "histogram" | "summary" | "untyped";
  samples: Array<{ name: string; labels: Record<string, string>; value: number }>;
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const SUFFIXES: Record<Family["type"], string[]> = {
  counter: [""],
  gauge: [""],
  untyped: [""],
  histogram: ["_bucket", "_sum", "_count"],
  summary: ["", "_sum", "_count"],
};

function parseValue(s: string, line: number): number {
  if (s === "+Inf") return Infinity;
  if (s === "-Inf") return -Infinity;
  if (s === "NaN") return NaN;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(s)) throw new Error(`line ${line}: '${s}' is not a number`);
  return Number(s);
}

function parseLabels(s: string, line: number): { labels: Record<string, string>; rest: string } {
  const labels: Record<string, string> = {};
  let i = 1;
  for (;;) {
    if (s[i] === "}") return { labels, rest: s.slice(i + 1) };
    const eq = s.indexOf("=", i);
    if (eq < 0) throw new Error(`line ${line}: label without '='`);
    const name = s.slice(i, eq);
    if (!LABEL.test(name)) throw new Error(`line ${line}: bad label name '${name}'`);
    if (name in labels) throw new Error(`line ${line}: label '${name}' repeated`);
    if (s[eq + 1] !== '"') throw new Error(`line ${line}: label value of '${name}' not quoted`);
    let v = "";
    let j = eq + 2;
    for (; j < s.length && s[j] !== '"'; j++) {
      if (s[j] === "\\") {
        const e = s[++j];
        if (e === "n") v += "\n";
        else if (e === "\\" || e === '"') v += e;
        else throw new Error(`line ${line}: bad escape '\\${e}'`);
      } else v += s[j];
    }
    if (j >= s.length) throw new Error(`line ${line}: unterminated label value`);
    labels[name] = v;
    i = j + 1;
    if (s[i] === ",") i++;
    else if (s[i] !== "}") throw new Error(`line ${line}: expected ',' or '}' after label '${name}'`);
  }
}

export function parsePrometheusText(text: string): Map<string, Family> {
  const families = new Map<string, Family>();
  if (!text.endsWith("\n")) throw new Error("exposition does not end with a newline");
  const lines = text.slice(0, -1).split("\n");
  lines.forEach((raw, k) => {
    const n = k + 1;
    if (raw === "") return;
    if (raw.startsWith("#")) {
      const m = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(raw);
      if (!m) {
        if (raw.startsWith("# ")) return; // a comment
        throw new Error(`line ${n}: malformed comment`);
      }
      const [, kind, name, rest] = m as unknown as [string, string, string, string];
      if (!NAME.test(name)) throw new Error(`line ${n}: bad metric name '${name}'`);
      const f = families.get(name) ?? { name, help: "", type: "untyped" as Family["type"], samples: [] };
      if (f.samples.length > 0) throw new Error(`line ${n}: ${kind} for '${name}' after its samples`);
      if (kind === "TYPE") {
        if (!["counter", "gauge", "histogram", "summary", "untyped"].includes(rest)) throw new Error(`line ${n}: unknown type '${rest}'`);
        f.type = rest as Family["type"];
      } else f.help = rest;
      families.set(name, f);
      return;
    }
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*)?$/.exec(raw.split(" ")[0]!.includes("{") ? raw.slice(0, raw.lastIndexOf("}") + 1) : raw.split(" ")[0]!);
    if (!m) throw new Error(`line ${n}: malformed sample '${raw}'`);
    const name = m[1]!;
    const { labels, rest } = m[2] ? parseLabels(m[2], n) : { labels: {}, rest: "" };
    if (rest !== "") throw new Error(`line ${n}: text after the labels`);
    const tail = raw.slice(m[0].length);
    const parts = tail.trim().split(/ +/);
    if (!tail.startsWith(" ") || parts.length < 1 || parts.length > 2) throw new Error(`line ${n}: expected 'value [timestamp]'`);
    const value = parseValue(parts[0]!, n);
    if (parts[1] !== undefined && !/^-?\d+$/.test(parts[1])) throw new Error(`line ${n}: bad timestamp`);
    const family = [...families.values()].find((f) => SUFFIXES[f.type].some((sfx) => f.name + sfx === name));
    if (!family) throw new Error(`line ${n}: sample '${name}' belongs to no declared family`);
    if (family.type === "counter" && !(value >= 0)) throw new Error(`line ${n}: counter '${name}' is ${value}`);
    family.samples.push({ name, labels, value });
  });
  for (const f of families.values()) if (f.type === "histogram") checkHistogram(f);
  return families;
}

function checkHistogram(f: Family): void {
  const series = new Map<string, { buckets: Array<[number, number]>; count?: number }>();
  for (const s of f.samples) {
    const { le, ...rest } = s.labels;
    const key = JSON.stringify(Object.entries(rest).sort());
    const e = series.get(key) ?? { buckets: [] };
    if (s.name === `${f.name}_bucket`) {
      if (le === undefined) throw new Error(`${f.name}: bucket without 'le'`);
      e.buckets.push([parseValue(le, 0), s.value]);
    } else if (s.name === `${f.name}_count`) e.count = s.value;
    series.set(key, e);
  }
  for (const [key, e] of series) {
    const last = e.buckets[e.buckets.length - 1];
    if (!last || last[0] !== Infinity) throw new Error(`${f.name}${key}: no +Inf bucket`);
    for (let i = 1; i < e.buckets.length; i++) {
      if (!(e.buckets[i]![0] > e.buckets[i - 1]![0]) || e.buckets[i]![1] < e.buckets[i - 1]![1]) throw new Error(`${f.name}${key}: buckets not cumulative`);
    }
    if (e.count !== last[1]) throw new Error(`${f.name}${key}: _count ${e.count} differs from the +Inf bucket ${last[1]}`);
  }
}

/** The value of one sample, by name and labels. */
export function sample(families: Map<string, Family>, family: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const f = families.get(family);
  return f?.samples.find((s) => s.name === name && Object.keys(labels).every((k) => s.labels[k] === labels[k]) && Object.keys(s.labels).length >= Object.keys(labels).length)
    ?.value;
}
