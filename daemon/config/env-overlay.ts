import { parse as parseYamlScalar } from "yaml";

const PREFIX = "EDGE_INSPECT_";

/**
 * EDGE_INSPECT_SECTION__KEY=value overrides `section.key` (double underscore
 * nests, names are lower-cased). Values are read as YAML scalars, so numbers
 * and booleans keep their types. Returns which paths came from which variable,
 * so that a bad value is reported against the variable that set it.
 */
export function applyEnvOverlay(
  raw: Record<string, unknown>,
  env: NodeJS.ProcessEnv,
): { value: Record<string, unknown>; fromEnv: Map<string, string> } {
  const value = structuredClone(raw);
  const fromEnv = new Map<string, string>();
  for (const [name, text] of Object.entries(env)) {
    if (!name.startsWith(PREFIX) || text === undefined) continue;
    const path = name.slice(PREFIX.length).toLowerCase().split("__").filter(Boolean);
    if (path.length === 0) continue;
    let cursor: Record<string, unknown> = value;
    for (const key of path.slice(0, -1)) {
      const next = cursor[key];
      if (next === undefined || next === null || typeof next !== "object" || Array.isArray(next)) cursor[key] = {};
      cursor = cursor[key] as Record<string, unknown>;
    }
    let parsed: unknown;
    try {
      parsed = parseYamlScalar(text);
    } catch {
      parsed = text;
    }
    cursor[path[path.length - 1]!] = parsed;
    fromEnv.set(path.join("."), name);
  }
  return { value, fromEnv };
}
