import { EdgeError, errorMessage } from "../util/errors.js";
import { wallTime } from "../util/clock.js";
import type { Pipeline } from "../pipeline/pipeline.js";
import type { TestPulse } from "../actuation/scheduler-protocol.js";
import type { CommandTarget } from "./commands.js";

/**
 * Commands as the running line offers them. Pausing stops free-run frames
 * from becoming parts; triggered parts are always judged (and fail safe), so
 * pause can never let a part pass unjudged.
 */
export function pipelineCommandTarget(pipeline: Pipeline, testPulse: () => Promise<TestPulse>): CommandTarget {
  const unavailable = (what: string) => async (): Promise<never> => {
    throw new EdgeError("E_CMD_UNAVAILABLE", `${what} is not available on this station`);
  };
  return {
    pause: () => {
      pipeline.paused = true;
    },
    resume: () => {
      pipeline.paused = false;
    },
    defectClasses: () => pipeline.labels.filter((l) => l !== pipeline.decideSettings.okLabel),
    setThreshold: (cls, value) => {
      const s = pipeline.decideSettings;
      pipeline.decideSettings = cls === undefined ? { ...s, threshold: value } : { ...s, thresholds: { ...s.thresholds, [cls]: value } };
      return { threshold: pipeline.decideSettings.threshold, thresholds: pipeline.decideSettings.thresholds };
    },
    // The scheduler fires it at the configured width after the min gap; a held (safe) output refuses it.
    testReject: async () => {
      try {
        return wallTime((await testPulse()).tOnMs).toISOString();
      } catch (err) {
        throw new EdgeError("E_CMD_UNAVAILABLE", errorMessage(err), { cause: err });
      }
    },
    snapshot: unavailable("snapshot"),
    reloadConfig: unavailable("reload-config"),
    swapModel: unavailable("swap-model"),
  };
}
