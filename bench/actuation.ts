import { readFileSync } from "node:fs";
import type { Benchmark } from "./harness.js";
import { percentile } from "./harness.js";
import { App } from "../daemon/app.js";
import { LineActuation } from "../daemon/actuation/line-actuation.js";
import { SimulatedGpio } from "../daemon/actuation/simulated-gpio.js";
import { parseConfigText } from "../daemon/config/load.js";
import type { SettledPart } from "../daemon/pipeline/part.js";
import { nowMs, sleep } from "../daemon/util/clock.js";
import { createLogger } from "../daemon/util/log.js";

/** Pulse start minus the part's ejection time, in ms, for every rejected part. */
function errors(parts: SettledPart[]): number[] {
  return parts.filter((p) => p.outcome === "rejected" && p.tPulseMs !== undefined && p.tPulseMs >= p.ejectAtMs - 50).map((p) => p.tPulseMs! - p.ejectAtMs);
}

function row(mode: string, e: number[]) {
  const abs = e.map(Math.abs);
  return { mode, pulses: e.length, p50_ms: percentile(abs, 50), p99_ms: percentile(abs, 99), max_ms: Math.max(0, ...abs) };
}

const demo = () => parseConfigText("config/demo.yaml", readFileSync(new URL("../../config/demo.yaml", import.meta.url), "utf8"), {});

export const actuationBenchmark: Benchmark = {
  name: "actuation",
  description: "reject pulse timing error: full pipeline at line rate vs the same scheduler on an idle process",
  async run(opts) {
    const seconds = Math.max(2, Math.round(15 * opts.scale));
    const log = createLogger("error", false);
    const rows = [];
    const data: Record<string, unknown> = { seconds, goal_p99_ms: 1 };
    // Side by side: the reject core as a normal thread, then under SCHED_FIFO
    // (actuation.realtime_priority; needs root or CAP_SYS_NICE).
    for (const priority of [0, 10]) {
      // Idle: only the tracker and scheduler, parts at the demo line's rate, every one rejected.
      const config = demo();
      config.actuation.realtime_priority = priority;
      const idleParts: SettledPart[] = [];
      const act = new LineActuation(config, new SimulatedGpio(), () => "bench", (p) => idleParts.push(p), log);
      await act.start();
      const period = 1000 / (config.camera.type === "synthetic" ? config.camera.fps : 20);
      const until = nowMs() + seconds * 1000;
      while (nowMs() < until) {
        const p = act.tracker.create({ tMs: nowMs() });
        act.tracker.judge(p, { verdict: "reject", findings: [{ class: "bench", score: 1 }] });
        await sleep(period);
      }
      await act.tracker.idle();
      await act.stop();

      // Loaded: the demo line end to end (capture, inference worker, decide, records, publish).
      // Threshold 0: every part is a reject, so every part makes a pulse to time.
      const loadedConfig = demo();
      loadedConfig.decide.threshold = 0;
      loadedConfig.actuation.realtime_priority = priority;
      loadedConfig.http.enabled = false;
      const app = new App(loadedConfig, log);
      const loadedParts: SettledPart[] = [];
      app.addSettledListener((p) => loadedParts.push(p));
      await app.start();
      await sleep(seconds * 1000);
      const summary = await app.stop("bench done");

      const thread = priority > 0 ? `SCHED_FIFO ${priority}` : "normal";
      const idle = row(`idle process, ${thread}`, errors(idleParts));
      const loaded = row(`full pipeline, ${thread}`, errors(loadedParts));
      rows.push(idle, loaded);
      data[priority > 0 ? "realtime" : "normal"] = {
        idle,
        loaded,
        loaded_summary: { triggered: summary.triggered, rejected: summary.rejected, escaped: summary.escaped, event_loop_lag_ms: summary.event_loop_lag_ms },
      };
    }
    return { rows, data };
  },
};
