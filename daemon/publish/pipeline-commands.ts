import { EdgeError, errorMessage } from "../util/errors.js";
import { wallTime } from "../util/clock.js";
import type { Pipeline } from "../pipeline/pipeline.js";
import type { TestPulse } from "../actuation/reject-plan.js";
import type { CommandTarget } from "./commands.js";

/**
 * Commands as the running line offers them. Pausing stops free-run frames
 * from becoming parts; triggered parts are always judged (and fail safe), so
 * pause can never let a part pass unjudged.
 */
export interface StationActions {
  /** Why commands may not act yet (or any more); undefined once READY. */
  notReady(): string | undefined;
  testPulse(): Promise<TestPulse>;
  /** Keeps the next judged frame; resolves with its snapshot path. */
  snapshot(): Promise<string>;
  /** Re-reads the config file; resolves with the sections applied. */
  reloadConfig(): Promise<string[]>;
  /** Swaps to a model package beside the running one; resolves with its version. */
  swapModel(name: string): Promise<string>;
  /** Sets (or, value undefined, clears) a runtime threshold override, kept across reloads, swaps and restarts. */
  setThreshold(cls: string | undefined, value: number | undefined, by: string): void;
}

export function pipelineCommandTarget(pipeline: Pipeline, station: StationActions): CommandTarget {
  return {
    notReady: () => station.notReady(),
    pause: () => {
      pipeline.paused = true;
    },
    resume: () => {
      pipeline.paused = false;
    },
    defectClasses: () => pipeline.labels.filter((l) => l !== pipeline.decideSettings.okLabel),
    setThreshold: (cls, value, by) => {
      station.setThreshold(cls, value, by);
      return { threshold: pipeline.decideSettings.threshold, thresholds: pipeline.decideSettings.thresholds };
    },
    // The scheduler fires it at the configured width after the min gap; a held (safe) output refuses it.
    testReject: async () => {
      try {
        return wallTime((await station.testPulse()).tOnMs).toISOString();
      } catch (err) {
        throw new EdgeError("E_CMD_UNAVAILABLE", errorMessage(err), { cause: err });
      }
    },
    snapshot: () => station.snapshot(),
    reloadConfig: async () => ({ applied: await station.reloadConfig() }),
    swapModel: async (name) => ({ model_version: await station.swapModel(name) }),
  };
}
