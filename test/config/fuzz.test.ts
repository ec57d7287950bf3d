import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import fc from "fast-check";
import { parse, stringify } from "yaml";
import { ConfigError, formatProblem, parseConfigText } from "../../daemon/config/load.js";
import { REPO } from "../cli/cli-helpers.js";

/**
 * Fuzzing of the config loader: whatever the text, the loader returns a
 * config or throws a ConfigError listing `path: problem` lines (exit 2 from
 * the CLI), never anything else. Each property runs a number of inputs, not
 * for a time: at load 20 a 2.5 s budget ran 14, too few to meet a valid one.
 * FUZZ_SEED replays a run; FUZZ_RUNS sets the inputs per property.
 */
const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31);
const RUNS = Number(process.env.FUZZ_RUNS ?? 300);

const EXAMPLE = readFileSync(`${REPO}config/example.yaml`, "utf8");
const EXAMPLE_RAW = parse(EXAMPLE) as Record<string, unknown>;

/** Every key path of the example config, so mutations land on keys the schema knows. */
function paths(v: unknown, at: string[] = []): string[][] {
  if (!v || typeof v !== "object" || Array.isArray(v)) return [at];
  return [at, ...Object.entries(v).flatMap(([k, x]) => paths(x, [...at, k]))];
}
const KEY_PATHS = paths(EXAMPLE_RAW).filter((p) => p.length > 0);
const KEYS = [...new Set(KEY_PATHS.flat())];

type Outcome = "valid" | "refused";

/** The property itself: a valid config, or a ConfigError with well-formed problems. */
function load(text: string, env: NodeJS.ProcessEnv = {}): Outcome {
  let config: unknown;
  try {
    config = parseConfigText("fuzz.yaml", text, env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw new Error(`not a ConfigError: ${String((err as Error)?.stack ?? err)}`);
    assert.equal(err.code, "E_CONFIG");
    assert.ok(err.problems.length > 0, "a ConfigError with no problems");
    for (const p of err.problems) {
      assert.equal(typeof p.path, "string");
      assert.ok(typeof p.message === "string" && p.message.length > 0, `empty message at '${p.path}'`);
      assert.ok(p.line === undefined || (Number.isInteger(p.line) && p.line >= 1), `line ${p.line}`);
      assert.doesNotMatch(formatProblem(p), /\n\s+at /, "a stack trace in a problem");
    }
    return "refused";
  }
  assert.ok(config && typeof config === "object", "a config that is not an object");
  assert.deepEqual(finiteViolations(config), [], "a valid config holding a non-finite number");
  return "valid";
}

function finiteViolations(v: unknown, at = ""): string[] {
  if (typeof v === "number") return Number.isFinite(v) ? [] : [at];
  if (v && typeof v === "object") return Object.entries(v).flatMap(([k, x]) => finiteViolations(x, `${at}.${k}`));
  return [];
}

const TOKENS = [
  ...KEYS,
  ":", ": ", " ", "  ", "\n", "\n  ", "\n    ", "- ", "{", "}", "[", "]", ",", "&a ", "*a", "&b ", "*b", "<<: ", "? ", "!!str ", "!!int ", "!!map ", "!!binary ",
  "!custom ", "'", '"', "#", "---\n", "...\n", "|\n", ">\n", "%YAML 1.1\n", "%TAG ! tag:x:\n", "\t", "\r\n", "\u0000", "\u00e9", "\ufeff", "\u2028", "\\",
  "synthetic", "simulated", "sqlite", "memory", "mqtt", "free-run", "triggered", "reject", "accept", "0", "1", "-1", "0.5", "1e400", "-1e400", ".inf", "-.inf",
  ".nan", "0x1F", "0o17", "1_000", "null", "~", "true", "false", "yes", "2024-02-30", "12:30", "env:X", "file:/dev/zero", "credential:x",
];

/** Text assembled from YAML syntax and the schema's own words: reaches past the YAML parser into the schema. */
const yamlish = fc.array(fc.constantFrom(...TOKENS), { maxLength: 120 }).map((t) => t.join(""));

/** Odd values: whatever JSON can hold, plus the numbers and strings YAML makes of hostile text. */
const oddValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.constantFrom(Infinity, -Infinity, NaN, -0, 2 ** 53 + 1, 1e-320, "", " ", "\u0000", "a".repeat(10_000), "file:/dev/zero", "env:UNSET", "2024-02-30"),
  fc.double(),
  fc.integer(),
  fc.string({ unit: "binary", maxLength: 40 }),
);

/** The example config with a few keys changed, removed or added. */
const mutatedExample = fc
  .array(
    fc.tuple(fc.constantFrom(...KEY_PATHS), fc.oneof(oddValue.map((v) => ({ set: v })), fc.constant({ remove: true as const }), fc.string({ maxLength: 12 }).map((k) => ({ add: k, v: 1 })))),
    { minLength: 1, maxLength: 6 },
  )
  .map((edits) => {
    const cfg = structuredClone(EXAMPLE_RAW);
    for (const [path, edit] of edits) {
      const parent = path.slice(0, -1).reduce<Record<string, unknown> | undefined>((o, k) => (o && typeof o[k] === "object" && o[k] !== null ? (o[k] as Record<string, unknown>) : undefined), cfg);
      if (!parent) continue;
      const key = path[path.length - 1]!;
      if ("set" in edit) parent[key] = edit.set;
      else if ("remove" in edit) delete parent[key];
      else parent[edit.add] = edit.v;
    }
    return cfg;
  });

/** Structured objects of any shape under the schema's section names. */
const anyObject = fc.dictionary(fc.oneof(fc.constantFrom(...KEYS), fc.string({ maxLength: 10 })), fc.oneof(oddValue, fc.dictionary(fc.constantFrom(...KEYS), oddValue, { maxKeys: 6 })), { maxKeys: 10 });

/** EDGE_INSPECT_* overrides of random keys with random text. */
const envOverlay = fc.dictionary(
  fc.array(fc.oneof(fc.constantFrom(...KEYS), fc.string({ maxLength: 6 })), { minLength: 1, maxLength: 4 }).map((p) => `EDGE_INSPECT_${p.join("__").toUpperCase()}`),
  fc.oneof(fc.constantFrom(...TOKENS), fc.string({ maxLength: 20 })),
  { maxKeys: 4 },
);

const toYaml = (v: unknown) => {
  try {
    return stringify(v, { aliasDuplicateObjects: false });
  } catch {
    return String(v);
  }
};

function run(name: string, arb: fc.Arbitrary<{ text: string; env?: NodeJS.ProcessEnv }>): Record<Outcome, number> {
  const seen: Record<Outcome, number> = { valid: 0, refused: 0 };
  const result = fc.check(
    fc.property(arb, ({ text, env }) => {
      seen[load(text, env)]++;
    }),
    { seed: SEED, numRuns: RUNS },
  );
  if (result.failed) {
    const input = JSON.stringify(result.counterexample).slice(0, 2000);
    throw new Error(`${name}: seed ${SEED} path ${result.counterexamplePath}: ${String(result.errorInstance ?? result.error)}\ninput: ${input}`);
  }
  return seen;
}

test(`fuzz (seed ${SEED}): YAML-like text is a config or a list of path: problem`, (t) => {
  const seen = run("yaml text", yamlish.map((text) => ({ text })));
  t.diagnostic(`seed ${SEED}: ${JSON.stringify(seen)}`);
  assert.ok(seen.refused > 0);
});

test(`fuzz (seed ${SEED}): arbitrary text and bytes are a config or a list of path: problem`, (t) => {
  const seen = run("any text", fc.oneof(fc.string({ unit: "binary", maxLength: 300 }), fc.string({ unit: "grapheme", maxLength: 300 })).map((text) => ({ text })));
  t.diagnostic(`seed ${SEED}: ${JSON.stringify(seen)}`);
});

test(`fuzz (seed ${SEED}): the example config with keys changed, removed or added`, (t) => {
  const seen = run("mutated example", mutatedExample.map((cfg) => ({ text: toYaml(cfg) })));
  t.diagnostic(`seed ${SEED}: ${JSON.stringify(seen)}`);
  // The mutations are small: a fair share must still be valid, or the fuzzer only ever tests the refusal path.
  assert.ok(seen.valid > 0 && seen.refused > 0, JSON.stringify(seen));
});

test(`fuzz (seed ${SEED}): structured objects of any shape, with environment overrides`, (t) => {
  const seen = run("objects", fc.tuple(fc.oneof(anyObject, mutatedExample), envOverlay).map(([cfg, env]) => ({ text: toYaml(cfg), env })));
  t.diagnostic(`seed ${SEED}: ${JSON.stringify(seen)}`);
});

test("the fuzzed loader's verdict on the example itself: valid", () => {
  assert.equal(load(EXAMPLE), "valid");
});
