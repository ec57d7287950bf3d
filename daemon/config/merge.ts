/**
 * The defaults under a section's own keys: mappings merge key by key,
 * anything else (lists, values) is the section's. A section of another
 * `type` (a v4l2 camera over a synthetic default) replaces the default
 * whole, so that no key of the other kind leaks into it.
 */
export function mergeDefaults(defaults: Record<string, unknown>, own: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...defaults };
  for (const [k, v] of Object.entries(own)) {
    const d = out[k];
    out[k] = isPlainObject(d) && isPlainObject(v) && (v.type === undefined || v.type === d.type) ? mergeDefaults(d, v) : v;
  }
  return out;
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
