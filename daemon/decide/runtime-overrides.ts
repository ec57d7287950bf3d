import { existsSync, mkdirSync, renameSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { writeFileAtomic } from "../util/atomic-write.js";
import { readBounded } from "../util/bounded-read.js";
import { EdgeError, errorMessage } from "../util/errors.js";
import type { Logger } from "../util/log.js";
import type { DecideOverrides } from "./settings.js";

const FILE = "runtime-overrides.json";
const MAX_BYTES = 64 * 1024;

const entry = z.object({ value: z.number().finite().min(0).max(1), set_at: z.string().max(64), by: z.string().max(128) }).strict();
const fileSchema = z
  .object({
    threshold: entry.optional(),
    thresholds: z.record(z.string().min(1).max(64), entry).default({}),
  })
  .strict();

export type OverrideEntry = z.infer<typeof entry>;
export type OverridesView = z.infer<typeof fileSchema>;

/**
 * Thresholds set while the line runs (the set-threshold command): kept in
 * the data directory, so a reload, a model swap or a restart does not undo
 * an operator's decision. They sit over the config's `decide:` values until
 * cleared; a class the running model lacks is kept and shows where it
 * applies again.
 */
export class RuntimeOverrides {
  private state: OverridesView = { thresholds: {} };
  private readonly file: string;

  /** `line`: one of several lines on the station, which keeps a file per line. */
  constructor(
    dataDir: string,
    private readonly log: Logger,
    line?: string,
  ) {
    this.file = join(dataDir, line === undefined ? FILE : FILE.replace(/\.json$/, `.${line}.json`));
  }

  /** Reads what the last run left. A damaged file is set aside (never lost) and the line runs on its config's values. */
  load(): void {
    if (!existsSync(this.file)) return;
    try {
      this.state = fileSchema.parse(JSON.parse(readBounded(this.file, { maxBytes: MAX_BYTES, noFollow: true }).toString("utf8")));
    } catch (err) {
      const aside = `${this.file}.bad-${Date.now()}`;
      try {
        renameSync(this.file, aside);
      } catch {
        // left where it is: the next write replaces it
      }
      this.state = { thresholds: {} };
      this.log.error({ code: "E_OVERRIDES_FILE", file: aside }, `runtime threshold overrides not taken, the file is kept as ${aside}: ${errorMessage(err)}; the config's thresholds apply`);
    }
  }

  view(): OverridesView {
    return { ...(this.state.threshold ? { threshold: this.state.threshold } : {}), thresholds: { ...this.state.thresholds } };
  }

  /** The config's decide values with these over them. */
  over(cfg: DecideOverrides): DecideOverrides {
    const per = Object.fromEntries(Object.entries(this.state.thresholds).map(([cls, e]) => [cls, e.value]));
    return { ...cfg, threshold: this.state.threshold?.value ?? cfg.threshold, thresholds: { ...cfg.thresholds, ...per } };
  }

  /** `cls` undefined: the default threshold; `value` undefined: clear it (the config's or the package's value again). */
  set(cls: string | undefined, value: number | undefined, by: string): void {
    const next: OverridesView = this.view();
    const e = value === undefined ? undefined : { value, set_at: new Date().toISOString(), by };
    if (cls === undefined) {
      if (e) next.threshold = e;
      else delete next.threshold;
    } else if (e) next.thresholds[cls] = e;
    else delete next.thresholds[cls];
    try {
      mkdirSync(join(this.file, ".."), { recursive: true });
      writeFileAtomic(this.file, `${JSON.stringify(next, null, 2)}\n`);
    } catch (err) {
      // Not applied either: an override that would vanish at the next restart is the defect this file exists for.
      throw new EdgeError("E_OVERRIDES_FILE", `threshold not changed: cannot keep it in ${this.file}: ${errorMessage(err)}`, { cause: err });
    }
    this.state = next;
  }
}
