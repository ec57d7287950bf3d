import { dirname, join, resolve } from "node:path";
import type { Config } from "./config/schema.js";
import type { EngineInfo } from "./inference/engine.js";
import { RuntimeOverrides } from "./decide/runtime-overrides.js";
import type { Gpio } from "./actuation/gpio.js";
import type { PartTracker } from "./actuation/tracker.js";
import type { Alarms } from "./actuation/alarms.js";
import type { CoreStats } from "./actuation/reject-core.js";
import { setThreadNice } from "./util/thread-nice.js";
import type { Store } from "./records/store.js";
import { snapshotPath } from "./records/snapshot-path.js";
import type { Publisher } from "./publish/publisher.js";
import type { Commands } from "./publish/commands.js";
import { pipelineCommandTarget } from "./publish/pipeline-commands.js";
import { changedSections, LIVE_SECTIONS } from "./config/reload.js";
import type { Pipeline } from "./pipeline/pipeline.js";
import type { RunStats, Summary } from "./pipeline/run-stats.js";
import type { SettledPart } from "./pipeline/part.js";
import { SdNotify } from "./lifecycle/sd-notify.js";
import type { FrameSampler } from "./http/frame-sampler.js";
import type { StationHealth } from "./http/station.js";
import { Watchdog } from "./lifecycle/watchdog.js";
import type { Logger } from "./util/log.js";
import { EdgeError, stationCode } from "./util/errors.js";
import { buildGpio } from "./house/build.js";
import { Line, type LineParts } from "./house/line.js";
import { Station, type Step, type StationView } from "./house/station.js";

/** Hardware edges a caller (a test, a bench) may supply instead of the configured ones. */
export interface AppParts extends LineParts {
  gpio?: Gpio;
  store?: Store;
  publisher?: Publisher;
}

export type AppState = "created" | "starting" | "running" | "stopping" | "stopped";

/**
 * The composition root: builds the rooms (house/: the Station's records,
 * broker, commands and review server; the Line's camera, model, pipeline
 * and actuation) and wires them. Starts them from one ordered list, in
 * data-flow order behind the outputs (outputs safe first, then store,
 * broker, model, camera), and stops them in reverse. Owns what spans
 * rooms: the lifecycle state, config reload and model swap.
 */
export class App {
  state: AppState = "created";
  readonly gpio: Gpio;
  /** Thresholds set over the network, kept in the data directory. */
  readonly overrides: RuntimeOverrides;
  readonly line: Line;
  readonly station: Station;
  private readonly notify: SdNotify;
  private watchdog: Watchdog | undefined;
  private readonly steps: Step[];
  /** Where the config comes from, for reloads (the CLI sets it to the file it read). */
  configSource: (() => Config) | undefined;

  constructor(
    public config: Config,
    private readonly log: Logger,
    parts: AppParts = {},
    env: NodeJS.ProcessEnv = process.env,
  ) {
    this.notify = new SdNotify(env);
    this.overrides = new RuntimeOverrides(config.data_dir, log.child({ component: "overrides" }));
    this.gpio = parts.gpio ?? buildGpio(config);
    this.line = new Line(config, this.gpio, parts, this.overrides, {
      record: (p, jpeg) => this.station.record(p, jpeg, this.line.name),
      progress: () => ({ outbox: this.store.stats().outbox }),
    }, log);
    const target = pipelineCommandTarget(this.line.pipeline, {
      notReady: () => (this.state === "running" ? undefined : this.state === "starting" || this.state === "created" ? "starting: the model is not loaded yet" : this.state),
      testPulse: () => this.line.testPulse(),
      snapshot: () => this.snapshotNext(),
      reloadConfig: () => this.reloadFromSource(),
      swapModel: async (name) => (await this.swapModel(this.packageBeside(name))).version,
      setThreshold: (cls, value, by) => {
        this.overrides.set(cls, value, by);
        this.line.model.rejudge();
        this.log.info({ class: cls, threshold: value, by }, `${cls ?? "default"} threshold ${value === undefined ? "override cleared" : `set to ${value}`} by ${by}: kept across reloads, swaps and restarts`);
      },
    });
    this.station = new Station(config, parts, this.view(), target, log, env);
    this.station.watch(this.line.alarms);
    const line = this.line;
    this.steps = [
      // Outputs are already at their safe level: Gpio.output() starts them there;
      // the reject core takes its lines before anything can make a part.
      {
        name: "actuation",
        start: () => line.actuation.start(),
        stop: async () => {
          await line.actuation.stop();
          this.gpio.safe();
          await this.gpio.close();
        },
      },
      ...this.station.steps(),
      {
        name: "engine",
        start: async () => {
          this.overrides.load();
          await line.model.load();
        },
        // Closed by the line once its parts are settled.
        stop: () => undefined,
      },
      { name: "camera", start: () => line.startIntake(), stop: (deadline) => line.finish(deadline) },
      this.station.sparkplugStep(),
    ];
  }

  // The station's one line, for the CLI, the benches and the tests.
  get pipeline(): Pipeline {
    return this.line.pipeline;
  }
  get tracker(): PartTracker {
    return this.line.tracker;
  }
  get stats(): RunStats {
    return this.line.stats;
  }
  get frames(): FrameSampler {
    return this.line.frames;
  }
  /** Escaped parts, bins full, unconfirmed rejects: for the publisher and the operator. */
  get alarms(): Alarms {
    return this.line.alarms;
  }
  get store(): Store {
    return this.station.store;
  }
  get publisher(): Publisher {
    return this.station.publisher;
  }
  get commands(): Commands {
    return this.station.commands;
  }
  get sparkplug(): Station["sparkplug"] {
    return this.station.sparkplug;
  }
  get demoBroker(): Station["demoBroker"] {
    return this.station.demoBroker;
  }
  get http(): Station["http"] {
    return this.station.http;
  }
  get runId(): string {
    return this.station.runId;
  }

  /** The periodic `metrics` message. */
  metrics(): Record<string, unknown> {
    return this.station.metrics(this.view());
  }

  /** What the reject core's thread got (priority, locked memory) and how late it woke for each pulse. */
  rejectTiming(): CoreStats | undefined {
    return this.line.rejectTiming();
  }

  addSettledListener(listener: (p: SettledPart) => void): void {
    this.line.addSettledListener(listener);
  }

  async start(): Promise<void> {
    this.state = "starting";
    // Before the line starts its threads: they inherit it.
    const niceRefused = setThreadNice(this.config.lifecycle.nice);
    if (niceRefused) this.log.warn({ code: "E_NICE" }, `the line's threads run at normal priority: ${niceRefused}; on a busy machine verdicts may be late (those parts get the fail-safe action)`);
    for (const step of this.steps) {
      try {
        await step.start();
      } catch (err) {
        throw new EdgeError(stationCode(err, "E_START"), `start failed at ${step.name}: ${(err as Error).message}`, { cause: err });
      }
    }
    this.state = "running";
    this.notify.ready(`running: ${this.config.line.mode}, model ${this.line.model.info?.version}`);
    const wdMs = Watchdog.intervalFromEnv(process.env);
    if (wdMs && this.notify.enabled) {
      this.watchdog = new Watchdog(this.notify, wdMs, () => ({
        settled: this.tracker.counters.accepted + this.tracker.counters.rejected,
        inFlight: this.tracker.inFlight(),
      }));
      this.watchdog.start();
    }
    this.log.info({ mode: this.config.line.mode, camera: this.line.cameraKind(), gpio: this.gpio.kind, store: this.store.kind, publisher: this.publisher.kind }, "READY");
  }

  /** Graceful stop: no new parts, parts in flight finish, everything flushed, outputs safe. */
  async stop(reason: string): Promise<Summary> {
    if (this.state === "stopping" || this.state === "stopped") return this.summary();
    this.state = "stopping";
    // One budget for the whole stop, whatever the broker does.
    const deadline = Date.now() + this.config.lifecycle.stop_timeout_ms;
    this.notify.stopping();
    this.log.info({ reason, inFlight: this.tracker.inFlight() }, "stopping: finishing parts in flight");
    this.watchdog?.stop();
    // Every step, also after a start that failed part-way: each stop is a no-op for what never started.
    for (const step of [...this.steps].reverse()) await step.stop(deadline);
    this.notify.close();
    this.state = "stopped";
    const s = this.summary();
    this.stats.close();
    return s;
  }

  /** Last-resort path for signals and crashes: outputs to their safe level, synchronously. */
  emergencySafe(): void {
    try {
      this.line.actuation.emergencySafe();
    } finally {
      this.gpio.safe();
    }
  }

  summary(): Summary {
    return this.line.summary();
  }

  /** Hot swap of the line's model to the package in `dir` (see ModelSlot.swap). */
  swapModel(dir: string, variant?: string, config: Config = this.config): Promise<EngineInfo> {
    return this.line.model.swap(dir, variant, config, this.state);
  }

  /** Re-reads the config source and applies it (SIGHUP, the reload-config command). */
  reloadFromSource(): Promise<string[]> {
    if (!this.configSource) return Promise.reject(new EdgeError("E_CMD_UNAVAILABLE", "this station was not started from a config file"));
    let next: Config;
    try {
      next = this.configSource();
    } catch (err) {
      return Promise.reject(new EdgeError(stationCode(err, "E_CONFIG"), `config reload refused, nothing applied: ${(err as Error).message}`));
    }
    return this.reloadConfig(next);
  }

  /** Keeps the next judged frame as a snapshot, whatever its verdict; resolves with its path. */
  async snapshotNext(timeoutMs = 5000): Promise<string> {
    const partId = await this.line.snapshotNext(timeoutMs);
    if (partId === undefined) throw new EdgeError("E_CMD_UNAVAILABLE", `no frame was judged within ${timeoutMs} ms (paused, or no parts)`);
    return snapshotPath(this.runId, partId);
  }

  /**
   * Applies a changed config while the line runs (SIGHUP, the reload-config
   * command). Only what can change between two parts is taken; a change
   * anywhere else refuses the whole reload, naming the sections, and nothing
   * changes. Returns the sections applied.
   */
  async reloadConfig(next: Config): Promise<string[]> {
    if (this.state !== "running") throw new EdgeError("E_STATE", `reload refused: the station is ${this.state}`);
    const changed = changedSections(this.config, next);
    const restart = changed.filter((s) => !LIVE_SECTIONS.includes(s));
    const [cur, nxt] = [this.config.engine, next.engine];
    const engineChanged = changed.includes("engine");
    if (engineChanged && (cur.type === "simulated" || nxt.type === "simulated" || cur.type !== nxt.type)) restart.push("engine (only a model package or variant swaps live)");
    if (restart.length > 0) throw new EdgeError("E_RELOAD_RESTART", `reload refused, nothing applied: a restart is needed to change ${restart.join(", ")}`);
    if (engineChanged && nxt.type !== "simulated") await this.line.model.swap(nxt.package, nxt.variant, next, this.state);
    this.line.reconfigure(next);
    this.config = next;
    this.log.level = next.log.level;
    this.log.info({ changed }, changed.length > 0 ? `config reloaded: ${changed.join(", ")}` : "config reloaded: nothing changed");
    return changed;
  }

  /** For the review server, /metrics and /healthz. */
  health(): StationHealth {
    return this.line.health(this.state, this.overrides.view(), this.store.stats());
  }

  /**
   * A model package named over the network: only a directory beside the
   * running package, never an arbitrary path on the station.
   */
  private packageBeside(name: string): string {
    const e = this.config.engine;
    if (e.type === "simulated") throw new EdgeError("E_CMD_UNAVAILABLE", "the simulated engine has no model package");
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name)) throw new EdgeError("E_CMD_INVALID", `package must be the name of a package directory beside the running one, got '${name}'`);
    return join(dirname(resolve(e.package)), name);
  }

  /** What the station's rooms read of the line and of the App. */
  private view(): StationView {
    const line = this.line;
    return {
      frames: line.frames,
      health: () => this.health(),
      summary: () => this.summary(),
      addSettledListener: (l) => line.addSettledListener(l),
      model: () => line.model.info,
      defectClasses: () => line.pipeline.labels.filter((l) => l !== line.pipeline.decideSettings.okLabel),
      thresholds: () => ({ threshold: line.pipeline.decideSettings.threshold, thresholds: line.pipeline.decideSettings.thresholds }),
      lineMetrics: () => {
        const c = line.tracker.counters;
        return {
          triggered: c.triggered,
          accepted: c.accepted,
          rejected: c.rejected,
          failsafe: c.failsafe(),
          in_flight: line.tracker.inFlight(),
          paused: line.pipeline.paused,
          threshold_overrides: this.overrides.view(),
        };
      },
    };
  }
}
