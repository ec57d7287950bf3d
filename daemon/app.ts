import { dirname, join, resolve } from "node:path";
import type { Config } from "./config/schema.js";
import type { EngineInfo } from "./inference/engine.js";
import { RuntimeOverrides } from "./decide/runtime-overrides.js";
import { counter } from "./actuation/line-actuation.js";
import type { Gpio } from "./actuation/gpio.js";
import type { PartTracker } from "./actuation/tracker.js";
import type { Alarms } from "./actuation/alarms.js";
import type { CoreStats } from "./actuation/reject-core.js";
import { setThreadNice } from "./util/thread-nice.js";
import type { Store } from "./records/store.js";
import { snapshotPath } from "./records/snapshot-path.js";
import type { Publisher } from "./publish/publisher.js";
import type { Commands } from "./publish/commands.js";
import { linesCommandTarget } from "./publish/line-commands.js";
import { changedSections, LIVE_SECTIONS } from "./config/reload.js";
import type { Pipeline } from "./pipeline/pipeline.js";
import type { RunStats, Summary } from "./pipeline/run-stats.js";
import type { SettledPart } from "./pipeline/part.js";
import { SdNotify } from "./lifecycle/sd-notify.js";
import type { StationHealth } from "./http/station.js";
import { Watchdog } from "./lifecycle/watchdog.js";
import type { Logger } from "./util/log.js";
import { EdgeError, stationCode } from "./util/errors.js";
import { buildGpio } from "./house/build.js";
import { Line, type LineParts } from "./house/line.js";
import { SharedEngines } from "./house/shared-engines.js";
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
  /** Every line of the station, in the config's order; most stations have one. */
  readonly lines: Line[];
  readonly station: Station;
  private readonly notify: SdNotify;
  private watchdog: Watchdog | undefined;
  private readonly steps: Step[];
  private final: Record<string, Summary> | undefined;
  /** Where the config comes from, for reloads (the CLI sets it to the file it read). */
  configSource: (() => Config) | undefined;

  constructor(
    public config: Config,
    private readonly log: Logger,
    parts: AppParts = {},
    env: NodeJS.ProcessEnv = process.env,
  ) {
    this.notify = new SdNotify(env);
    this.gpio = parts.gpio ?? buildGpio(config);
    const configs = config.lines ?? [config];
    const several = configs.length > 1;
    const sink = {
      record: (p: SettledPart, jpeg: Buffer | undefined) => this.station.record(p, jpeg, p.line),
      progress: () => ({ outbox: this.store.stats().outbox }),
    };
    const nextPartId = counter();
    const engines = new SharedEngines();
    this.lines = configs.map((c, i) => {
      const name = c.station.line;
      // One line logs as it always did; with several, every line's lines say which.
      const lineLog = several ? log.child({ line: name }) : log;
      const overrides = new RuntimeOverrides(c.data_dir, lineLog.child({ component: "overrides" }), several ? name : undefined);
      return new Line(c, this.gpio, i === 0 ? parts : {}, overrides, sink, lineLog, engines, nextPartId);
    });
    const target = linesCommandTarget(this.lines, {
      notReady: () => (this.state === "running" ? undefined : this.state === "starting" || this.state === "created" ? "starting: the model is not loaded yet" : this.state),
      reloadConfig: () => this.reloadFromSource(),
      swapModel: async (line, name) => (await this.swapModel(this.packageBeside(line, name), undefined, line.name)).version,
      snapshotPath: (partId) => snapshotPath(this.runId, partId),
    }, log);
    this.station = new Station(config, parts, this.view(), target, log, env);
    for (const l of this.lines) this.station.watch(l.alarms);
    this.steps = [
      // Outputs are already at their safe level: Gpio.output() starts them there;
      // each line's reject core takes its lines before anything can make a part.
      {
        name: "gpio",
        start: () => undefined,
        stop: async () => {
          this.gpio.safe();
          await this.gpio.close();
        },
      },
      ...this.lines.map((l) => ({ name: stepName("actuation", l, several), start: () => l.actuation.start(), stop: () => l.actuation.stop() })),
      ...this.station.steps(),
      // Closed by each line once its parts are settled.
      ...this.lines.map((l) => ({ name: stepName("engine", l, several), start: () => l.loadModel(), stop: () => undefined })),
      ...this.lines.map((l) => ({ name: stepName("camera", l, several), start: () => l.startIntake(), stop: (deadline: number) => l.finish(deadline) })),
      this.station.sparkplugStep(),
    ];
  }

  /** The station's first line: its only one on most stations (the CLI, the benches and the tests use it). */
  get line(): Line {
    return this.lines[0]!;
  }

  /** The line of that name; undefined: the first. */
  lineNamed(name: string | undefined): Line | undefined {
    return name === undefined ? this.line : this.lines.find((l) => l.name === name);
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

  /** What the first line's reject core thread got (priority, locked memory) and how late it woke for each pulse. */
  rejectTiming(): CoreStats | undefined {
    return this.line.rejectTiming();
  }

  /** Every settled part of every line. */
  addSettledListener(listener: (p: SettledPart) => void): void {
    for (const l of this.lines) l.addSettledListener(listener);
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
    this.notify.ready(`running: ${this.lines.map((l) => `${this.lines.length > 1 ? `${l.name} ` : ""}${l.mode}, model ${l.modelVersion()}`).join("; ")}`);
    const wdMs = Watchdog.intervalFromEnv(process.env);
    if (wdMs && this.notify.enabled) {
      this.watchdog = new Watchdog(this.notify, wdMs, () =>
        this.lines.map((l) => ({ settled: l.tracker.counters.accepted + l.tracker.counters.rejected, inFlight: l.tracker.inFlight() })),
      );
      this.watchdog.start();
    }
    const lines = this.lines.map((l) => ({ line: l.name, mode: l.mode, camera: l.cameraKind() }));
    this.log.info({ ...(lines.length > 1 ? { lines } : { mode: lines[0]!.mode, camera: lines[0]!.camera }), gpio: this.gpio.kind, store: this.store.kind, publisher: this.publisher.kind }, "READY");
  }

  /** Graceful stop: no new parts, parts in flight finish, everything flushed, outputs safe. */
  async stop(reason: string): Promise<Summary> {
    if (this.state === "stopping" || this.state === "stopped") return this.summary();
    this.state = "stopping";
    // One budget for the whole stop, whatever the broker does.
    const deadline = Date.now() + this.config.lifecycle.stop_timeout_ms;
    this.notify.stopping();
    this.log.info({ reason, inFlight: this.inFlight() }, "stopping: finishing parts in flight");
    this.watchdog?.stop();
    // Every step, also after a start that failed part-way: each stop is a no-op for what never started.
    for (const step of [...this.steps].reverse()) {
      const t0 = Date.now();
      await step.stop(deadline);
      // A stop that runs over its budget says where the time went.
      const ms = Date.now() - t0;
      if (ms >= SLOW_STOP_STEP_MS) this.log.info({ step: step.name, ms }, `stopping: ${step.name} took ${ms} ms`);
    }
    this.notify.close();
    this.state = "stopped";
    // Summed up before the statistics close (their event-loop monitor ends there).
    this.final = this.lineSummaries();
    for (const l of this.lines) l.stats.close();
    return this.final[this.line.name]!;
  }

  /** Parts in flight on every line. */
  inFlight(): number {
    return this.lines.reduce((n, l) => n + l.tracker.inFlight(), 0);
  }

  /** Last-resort path for signals and crashes: outputs to their safe level, synchronously. */
  emergencySafe(): void {
    try {
      for (const l of this.lines) {
        try {
          l.actuation.emergencySafe();
        } catch {
          // The next line's outputs still go safe; the GPIO's last of all.
        }
      }
    } finally {
      this.gpio.safe();
    }
  }

  /** The first line's run summary (see lineSummaries for every line's). */
  summary(): Summary {
    return this.final?.[this.line.name] ?? this.line.summary();
  }

  /** Every line's run summary, by line name; once stopped, as they were at the stop. */
  lineSummaries(): Record<string, Summary> {
    return this.final ?? Object.fromEntries(this.lines.map((l) => [l.name, l.summary()]));
  }

  /** Hot swap of a line's model (the first line's by default) to the package in `dir` (see ModelSlot.swap). */
  swapModel(dir: string, variant?: string, lineName?: string): Promise<EngineInfo> {
    const line = this.lineNamed(lineName);
    if (!line) return Promise.reject(new EdgeError("E_CMD_INVALID", `no line '${lineName}' on this station (${this.lines.map((l) => l.name).join(", ")})`));
    return line.swapModel(dir, variant, line.config, this.state);
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


  /**
   * Applies a changed config while the line runs (SIGHUP, the reload-config
   * command). Only what can change between two parts is taken; a change
   * anywhere else refuses the whole reload, naming the sections, and nothing
   * changes. Returns the sections applied.
   */
  async reloadConfig(next: Config): Promise<string[]> {
    if (this.state !== "running") throw new EdgeError("E_STATE", `reload refused: the station is ${this.state}`);
    const nextLines = next.lines ?? [next];
    const names = (ls: Array<{ station: { line: string } }>) => ls.map((l) => l.station.line).join(", ");
    if (names(nextLines) !== names(this.lines.map((l) => l.config))) {
      throw new EdgeError("E_RELOAD_RESTART", `reload refused, nothing applied: a restart is needed to change the lines (${names(this.lines.map((l) => l.config))} -> ${names(nextLines)})`);
    }
    const plans = this.lines.map((line, i) => ({ line, next: nextLines[i]!, changed: changedSections(line.config, nextLines[i]!) }));
    const restart = plans.flatMap(({ line, next: n, changed }) => {
      const at = (s: string) => (this.lines.length > 1 ? `lines.${line.name}.${s}` : s);
      const r = changed.filter((s) => !LIVE_SECTIONS.includes(s)).map(at);
      const [cur, nxt] = [line.config.engine, n.engine];
      if (changed.includes("engine") && (cur.type === "simulated" || nxt.type === "simulated" || cur.type !== nxt.type)) r.push(at("engine (only a model package or variant swaps live)"));
      return r;
    });
    if (restart.length > 0) throw new EdgeError("E_RELOAD_RESTART", `reload refused, nothing applied: a restart is needed to change ${[...new Set(restart)].join(", ")}`);
    // Every line's new settings are checked against its model before any line changes.
    for (const p of plans) if (!p.changed.includes("engine")) p.line.check(p.next);
    for (const { line, next: n, changed } of plans) {
      if (changed.includes("engine") && n.engine.type !== "simulated") await line.swapModel(n.engine.package, n.engine.variant, n, this.state);
      line.reconfigure(n);
    }
    const changed = [...new Set(plans.flatMap((p) => p.changed))];
    this.config = next;
    this.log.level = next.log.level;
    this.log.info({ changed }, changed.length > 0 ? `config reloaded: ${changed.join(", ")}` : "config reloaded: nothing changed");
    return changed;
  }

  /** For the review server, /metrics and /healthz: the first line's (see lineHealth). */
  health(): StationHealth {
    return this.lineHealth(this.line);
  }

  lineHealth(line: Line): StationHealth {
    return line.health(this.state, this.store.stats());
  }

  /**
   * A model package named over the network: only a directory beside the
   * running package, never an arbitrary path on the station.
   */
  private packageBeside(line: Line, name: string): string {
    const e = line.config.engine;
    if (e.type === "simulated") throw new EdgeError("E_CMD_UNAVAILABLE", "the simulated engine has no model package");
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name)) throw new EdgeError("E_CMD_INVALID", `package must be the name of a package directory beside the running one, got '${name}'`);
    return join(dirname(resolve(e.package)), name);
  }

  /** What the station's rooms read of the lines and of the App. */
  private view(): StationView {
    const line = this.line;
    return {
      health: () => this.health(),
      summary: () => this.summary(),
      lines: () =>
        this.lines.map((l) => ({
          name: l.name,
          frames: l.frames,
          summary: () => l.summary(),
          health: () => this.lineHealth(l),
          addSettledListener: (f) => l.addSettledListener(f),
          model: () => l.model.info,
          defectClasses: () => l.pipeline.labels.filter((c) => c !== l.pipeline.decideSettings.okLabel),
          thresholds: () => ({ threshold: l.pipeline.decideSettings.threshold, thresholds: l.pipeline.decideSettings.thresholds }),
        })),
      addSettledListener: (l) => this.addSettledListener(l),
      lineMetrics: () => {
        if (this.lines.length === 1) return line.metrics();
        // The station's totals, and each line's own under its name.
        const each = this.lines.map((l) => l.metrics());
        const sum = (k: "triggered" | "accepted" | "rejected" | "failsafe" | "in_flight") => each.reduce((n, m) => n + m[k], 0);
        return {
          triggered: sum("triggered"),
          accepted: sum("accepted"),
          rejected: sum("rejected"),
          failsafe: sum("failsafe"),
          in_flight: sum("in_flight"),
          paused: each.every((m) => m.paused),
          lines: Object.fromEntries(this.lines.map((l, i) => [l.name, each[i]])),
        };
      },
    };
  }
}

/** A stop step this slow is logged with its time. */
const SLOW_STOP_STEP_MS = 250;

function stepName(step: string, line: Line, several: boolean): string {
  return several ? `${step} of line ${line.name}` : step;
}
