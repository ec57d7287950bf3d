import { EdgeError, errorMessage } from "../util/errors.js";
import { wallTime } from "../util/clock.js";
import type { Logger } from "../util/log.js";
import type { Line } from "../house/line.js";
import type { CommandTarget } from "./commands.js";

/** What the commands ask of the station beyond its lines. */
export interface StationActions {
  /** Why commands may not act yet (or any more); undefined once READY. */
  notReady(): string | undefined;
  /** Re-reads the config file; resolves with the sections applied. */
  reloadConfig(): Promise<string[]>;
  /** Swaps a line's model to a package beside its running one; resolves with its version. */
  swapModel(line: Line, name: string): Promise<string>;
  snapshotPath(partId: number): string;
}

/**
 * Commands as the running lines offer them. A command may name its line
 * (`line` in the payload); pause, resume and set-threshold without one act on
 * every line, the commands that act on one thing (test-reject, snapshot,
 * swap-model) need it on a station with several. Pausing stops free-run
 * frames from becoming parts; triggered parts are always judged (and fail
 * safe), so pause can never let a part pass unjudged.
 */
export function linesCommandTarget(lines: Line[], station: StationActions, log: Logger): CommandTarget {
  const named = (name: string | undefined): Line[] => {
    if (name === undefined) return lines;
    const line = lines.find((l) => l.name === name);
    if (!line) throw new EdgeError("E_CMD_INVALID", `line: no line '${name.slice(0, 64)}' on this station (${lines.map((l) => l.name).join(", ")})`);
    return [line];
  };
  const one = (name: string | undefined): Line => {
    const ls = named(name);
    if (ls.length > 1) throw new EdgeError("E_CMD_INVALID", `line: name the line this acts on (${lines.map((l) => l.name).join(", ")})`);
    return ls[0]!;
  };
  return {
    notReady: () => station.notReady(),
    pause: (line) => {
      for (const l of named(line)) l.pipeline.paused = true;
    },
    resume: (line) => {
      for (const l of named(line)) l.pipeline.paused = false;
    },
    // Classes every addressed line's model has: a threshold for all lines must mean something on each.
    defectClasses: (line) => {
      const [first, ...rest] = named(line).map((l) => l.pipeline.labels.filter((c) => c !== l.pipeline.decideSettings.okLabel));
      return first!.filter((c) => rest.every((r) => r.includes(c)));
    },
    setThreshold: (cls, value, by, line) => {
      const ls = named(line);
      for (const l of ls) {
        l.overrides.set(cls, value, by);
        l.rejudge();
        const where = lines.length > 1 ? ` on line ${l.name}` : "";
        log.info({ class: cls, threshold: value, by, ...(lines.length > 1 && { line: l.name }) }, `${cls ?? "default"} threshold ${value === undefined ? "override cleared" : `set to ${value}`}${where} by ${by}: kept across reloads, swaps and restarts`);
      }
      const s = ls[0]!.pipeline.decideSettings;
      return { threshold: s.threshold, thresholds: s.thresholds };
    },
    // The scheduler fires it at the configured width after the min gap; a held (safe) output refuses it.
    testReject: async (line) => {
      const l = one(line);
      try {
        return wallTime((await l.testPulse()).tOnMs).toISOString();
      } catch (err) {
        throw new EdgeError("E_CMD_UNAVAILABLE", errorMessage(err), { cause: err });
      }
    },
    snapshot: async (line) => {
      const timeoutMs = 5000;
      const partId = await one(line).snapshotNext(timeoutMs);
      if (partId === undefined) throw new EdgeError("E_CMD_UNAVAILABLE", `no frame was judged within ${timeoutMs} ms (paused, or no parts)`);
      return station.snapshotPath(partId);
    },
    reloadConfig: async () => ({ applied: await station.reloadConfig() }),
    swapModel: async (name, line) => ({ model_version: await station.swapModel(one(line), name) }),
  };
}
