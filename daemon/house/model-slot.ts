import type { Config } from "../config/schema.js";
import type { Engine, EngineInfo } from "../inference/engine.js";
import { WorkerEngine } from "../inference/worker-engine.js";
import type { DecideSettings } from "../decide/decide.js";
import { decideSettings, labelProblems } from "../decide/settings.js";
import type { RuntimeOverrides } from "../decide/runtime-overrides.js";
import { type ErrorCode } from "../util/error-codes.js";
import { EdgeError, stationCode } from "../util/errors.js";
import { engineOptions } from "./build.js";
import type { Logger } from "../util/log.js";
import { sleepUnref } from "../util/clock.js";

/** What the pipeline judges a frame with: read once per frame, so a swap never mixes two models' answers. */
export interface Judging {
  engine: Engine;
  labels: string[];
  settings: DecideSettings;
}

/**
 * A line's model: the engine that runs it, hot swap, and the decide settings
 * in force (the package's, the config's over them, the operator's runtime
 * overrides over both). The one owner of all three, so that they change
 * together, in one synchronous step.
 */
export class ModelSlot {
  private engine: Engine;
  private engineInfo: EngineInfo | undefined;
  private judgingNow: Judging;
  private swapping = false;

  /** `engine`: the line's share of the engine for its configured model (see SharedEngines). */
  constructor(
    engine: Engine,
    private config: Config,
    private readonly overrides: RuntimeOverrides,
    private readonly log: Logger,
  ) {
    this.engine = engine;
    this.judgingNow = { engine: this.engine, labels: [], settings: decideSettings(config.decide, undefined) };
  }

  get info(): EngineInfo | undefined {
    return this.engineInfo;
  }

  judging(): Judging {
    return this.judgingNow;
  }

  /** Loads the configured model; refuses one whose classes the config does not fit. */
  async load(): Promise<EngineInfo> {
    const info = await this.engine.load();
    this.log.info({ engine: info }, `model ${info.name} ${info.version} loaded on ${info.backend}`);
    const problems = this.problems(info, this.config);
    if (problems.length > 0) throw new EdgeError("E_CONFIG", `the config does not fit model ${info.name}:\n${problems.join("\n")}`);
    this.use(this.engine, info, this.config);
    return info;
  }

  /**
   * Hot swap: loads the package in `dir` beside the running model, in its
   * own worker, where it must pass its checks (hashes, shapes, warm-up,
   * golden images) and fit the config's class names; then switches between
   * two parts. The old model answers the parts it already holds and is
   * closed after. On any failure the running model stays, and the error
   * says why.
   */
  async swap(dir: string, variant: string | undefined, config: Config, stationState: string): Promise<EngineInfo> {
    const e = config.engine;
    const running = this.engineInfo;
    const refuse = (code: ErrorCode, why: string) => {
      this.log.error({ code, dir }, `model swap refused, keeping ${running?.name ?? "none"} ${running?.version ?? ""}: ${why}`);
      return new EdgeError(code, `model swap refused, keeping ${running?.name ?? "none"} ${running?.version ?? ""}: ${why}`);
    };
    if (stationState !== "running" || !running) throw refuse("E_STATE", `the station is ${stationState}`);
    if (e.type === "simulated") throw refuse("E_SWAP", "the simulated engine has no model package");
    if (this.swapping) throw refuse("E_SWAP_BUSY", "another swap is in progress");
    this.swapping = true;
    try {
      const next = new WorkerEngine(engineOptions({ ...config, engine: { ...e, package: dir, variant: variant ?? e.variant } }), this.log);
      let info: EngineInfo;
      try {
        info = await next.load();
        const problems = this.problems(info, config);
        if (problems.length > 0) throw new EdgeError("E_MODEL_LABELS", `the config does not fit it: ${problems.join("; ")}`);
      } catch (err) {
        await next.close();
        throw refuse(stationCode(err, "E_MODEL_LOAD"), (err as Error).message);
      }
      const old = this.engine;
      this.use(next, info, config);
      this.log.info({ engine: info, previous: running.version }, `model swapped: ${running.name} ${running.version} -> ${info.name} ${info.version} on ${info.backend}`);
      const until = Date.now() + config.engine_runtime.hang_timeout_ms;
      while (old.pending() > 0 && Date.now() < until) await sleepUnref(5);
      await old.close();
      return info;
    } finally {
      this.swapping = false;
    }
  }

  /** Refuses a reloaded config the running model does not fit. */
  check(next: Config): void {
    if (!this.engineInfo) return;
    const problems = this.problems(this.engineInfo, next);
    if (problems.length > 0) throw new EdgeError("E_MODEL_LABELS", `reload refused, nothing applied: ${problems.join("; ")}`);
  }

  /** A reloaded config's decide settings, once the running model fits it; nothing changes otherwise. */
  reconfigure(next: Config): void {
    this.check(next);
    this.config = next;
    this.judgingNow = { ...this.judgingNow, settings: this.settingsFor(next, this.engineInfo) };
  }

  /** The operator's overrides changed: the next frame is judged by them. */
  rejudge(): DecideSettings {
    this.judgingNow = { ...this.judgingNow, settings: this.settingsFor(this.config, this.engineInfo) };
    return this.judgingNow.settings;
  }

  pending(): number {
    return this.engine.pending();
  }

  close(): Promise<void> {
    return this.engine.close();
  }

  /** One synchronous step: every frame judged from here on is judged by this model, its labels and settings. */
  private use(engine: Engine, info: EngineInfo, config: Config): void {
    this.engine = engine;
    this.engineInfo = info;
    this.config = config;
    this.judgingNow = { engine, labels: info.labels, settings: this.settingsFor(config, info) };
  }

  private settingsFor(config: Config, info: EngineInfo | undefined): DecideSettings {
    if (info) {
      const kept = Object.keys(this.overrides.view().thresholds).map((cls) => ({ path: `runtime override ${cls}`, label: cls }));
      for (const p of labelProblems(info.labels, kept)) this.log.warn({ code: "E_OVERRIDES_CLASS" }, `${p}: kept, applies again with a model that has it`);
    }
    return decideSettings(this.overrides.over(config.decide), info);
  }

  /** Class names the config uses that the model lacks, as `path: problem`. */
  private problems(info: EngineInfo, config: Config): string[] {
    const d = config.decide;
    const uses = Object.keys(d.thresholds).map((cls) => ({ path: `decide.thresholds.${cls}`, label: cls }));
    if (d.ok_label !== undefined) uses.push({ path: "decide.ok_label", label: d.ok_label });
    config.actuation.bins.forEach((b, i) => b.classes.forEach((cls, j) => uses.push({ path: `actuation.bins.${i}.classes.${j}`, label: cls })));
    return labelProblems(info.labels, uses);
  }
}
