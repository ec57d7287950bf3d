import type { EngineInfo } from "../inference/engine.js";
import type { DecideSettings } from "./decide.js";

/** The `decide:` config section: every key optional, so a model package's own values show through. */
export interface DecideOverrides {
  ok_label?: string | undefined;
  threshold?: number | undefined;
  thresholds: Record<string, number>;
}

const DEFAULT_THRESHOLD = 0.5;
const DEFAULT_OK_LABEL = "ok";

/**
 * What a part is judged by: the model package's ok_label and thresholds,
 * each overridden by the config where it sets one; for an engine without a
 * package, the config alone.
 */
export function decideSettings(cfg: DecideOverrides, info: EngineInfo | undefined): DecideSettings {
  const pkg = info?.package;
  return {
    okLabel: cfg.ok_label ?? pkg?.okLabel ?? DEFAULT_OK_LABEL,
    threshold: cfg.threshold ?? pkg?.thresholds.default ?? DEFAULT_THRESHOLD,
    thresholds: { ...pkg?.thresholds.perClass, ...cfg.thresholds },
  };
}

/**
 * Class names the config uses, checked against the loaded model's labels
 * (for a package they are known only once it is loaded), as `path: problem`.
 */
export function labelProblems(labels: readonly string[], uses: Array<{ path: string; label: string }>): string[] {
  const known = `(${labels.join(", ")})`;
  return uses.filter((u) => !labels.includes(u.label)).map((u) => `${u.path}: '${u.label}' is not one of the model's labels ${known}`);
}
