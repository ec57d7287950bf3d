import { type ErrorCode } from "./util/error-codes.js";
import { dirname, join, resolve } from "node:path";
import { commandsSchema, type Config } from "./config/schema.js";
import type { Camera } from "./capture/camera.js";
import { WorkerCamera } from "./capture/worker-camera.js";
import type { Trigger } from "./trigger/trigger.js";
import { SimulatedTrigger } from "./trigger/simulated-trigger.js";
import type { Engine, EngineInfo } from "./inference/engine.js";
import type { DecideSettings } from "./decide/decide.js";
import { WorkerEngine, type WorkerEngineOptions } from "./inference/worker-engine.js";
import type { SimulatedBackendOptions } from "./inference/simulated-backend.js";
import { packageEngineOptions } from "./inference/package-engine.js";
import { decideSettings, labelProblems } from "./decide/settings.js";
import { RuntimeOverrides } from "./decide/runtime-overrides.js";
import type { Gpio } from "./actuation/gpio.js";
import { SimulatedGpio } from "./actuation/simulated-gpio.js";
import { OnoffGpio } from "./actuation/onoff-gpio.js";
import { ChardevGpio } from "./actuation/chardev-gpio.js";
import { LineActuation, inputSpec } from "./actuation/line-actuation.js";
import type { PartTracker } from "./actuation/tracker.js";
import type { Alarms } from "./actuation/alarms.js";
import type { CoreStats } from "./actuation/reject-core.js";
import { setThreadNice } from "./util/thread-nice.js";
import { GpioTrigger } from "./trigger/gpio-trigger.js";
import { FRAMES_KEPT } from "./trigger/frame-matcher.js";
import type { Encoder } from "./trigger/encoder.js";
import type { Store } from "./records/store.js";
import { MemoryStore } from "./records/memory-store.js";
import { SqliteStore } from "./records/sqlite-store.js";
import { sqliteStoreOptions } from "./records/sqlite-options.js";
import type { Publisher } from "./publish/publisher.js";
import { MemoryPublisher } from "./publish/memory-publisher.js";
import { MqttPublisher } from "./publish/mqtt-publisher.js";
import { mqttPublisherOptions } from "./publish/mqtt-options.js";
import { Commands } from "./publish/commands.js";
import { pipelineCommandTarget } from "./publish/pipeline-commands.js";
import { Telemetry } from "./publish/telemetry.js";
import { OutboxDrainer } from "./publish/outbox-drainer.js";
import { defectMessage } from "./publish/messages.js";
import { SparkplugNode } from "./publish/sparkplug/edge-node.js";
import { edgeNodeId, edgeNodeOptions } from "./publish/sparkplug/options.js";
import { stationSource } from "./publish/sparkplug/station-metrics.js";
import { DeviceCommands } from "./publish/sparkplug/device-commands.js";
import { ActiveAlarms } from "./publish/sparkplug/active-alarms.js";
import { sparkplugDefectEntry } from "./publish/sparkplug/defect-event.js";
import { isSparkplugTopic, type EdgeNodeId } from "./publish/sparkplug/topics.js";
import { DemoBroker } from "./publish/broker/embedded-broker.js";
import { SnapshotTaker, type SnapshotSettings } from "./records/snapshot-taker.js";
import { snapshotPath } from "./records/snapshot-path.js";
import { changedSections, LIVE_SECTIONS } from "./config/reload.js";
import { Pipeline } from "./pipeline/pipeline.js";
import { RunStats, type Summary } from "./pipeline/run-stats.js";
import type { SettledPart } from "./pipeline/part.js";
import { SdNotify } from "./lifecycle/sd-notify.js";
import { HttpServer } from "./http/server.js";
import { FrameSampler } from "./http/frame-sampler.js";
import { threadHealth } from "./threads/thread-health.js";
import type { StationHealth } from "./http/station.js";
import { Watchdog } from "./lifecycle/watchdog.js";
import type { Logger } from "./util/log.js";
import { EdgeError, stationCode } from "./util/errors.js";

/** Hardware edges a caller (a test, a bench) may supply instead of the configured ones. */
export interface AppParts {
  camera?: Camera;
  trigger?: Trigger;
  engine?: WorkerEngineOptions;
  gpio?: Gpio;
  store?: Store;
  publisher?: Publisher;
}

export type AppState = "created" | "starting" | "running" | "stopping" | "stopped";

/**
 * The composition root: the only place that picks implementations. Starts
 * the parts in data-flow order behind the outputs (outputs safe first, then
 * store, broker, model, tracker, camera, trigger) and stops them in reverse.
 */
export class App {
  state: AppState = "created";
  readonly gpio: Gpio;
  /** Thresholds set over the network, kept in the data directory. */
  readonly overrides: RuntimeOverrides;
  readonly store: Store;
  readonly publisher: Publisher;
  readonly tracker: PartTracker;
  readonly stats = new RunStats();
  readonly pipeline: Pipeline;
  readonly commands: Commands;
  private readonly telemetry: Telemetry;
  private readonly camera: Camera;
  private readonly trigger: Trigger | undefined;
  private engine: Engine;
  private engineInfo: EngineInfo | undefined;
  private swapping = false;
  private readonly actuation: LineActuation;
  private readonly drainer: OutboxDrainer;
  /** The Sparkplug B edge node, its share of the outbox (defect events), and whether the JSON topics carry defects and metrics too. */
  readonly sparkplug: { node: SparkplugNode; id: EdgeNodeId; drainer: OutboxDrainer; jsonTopics: boolean } | undefined;
  private readonly activeAlarms = new ActiveAlarms();
  /** The broker the station starts itself (publish.embedded_broker, the demo), before anything connects to it. */
  readonly demoBroker: DemoBroker | undefined;
  private readonly notify: SdNotify;
  private watchdog: Watchdog | undefined;
  private progressTimer: NodeJS.Timeout | undefined;
  private settledListeners: Array<(p: SettledPart) => void> = [];
  private readonly snapshots: SnapshotTaker;
  /** Settled parts whose row waits for its snapshot to be encoded. */
  private readonly pendingRecords = new Set<Promise<void>>();
  /** A few frames kept until their verdict, so the live view shows the one a verdict was made on. */
  readonly frames: FrameSampler;
  readonly http: HttpServer | undefined;

  constructor(
    public config: Config,
    private readonly log: Logger,
    parts: AppParts = {},
    env: NodeJS.ProcessEnv = process.env,
  ) {
    this.notify = new SdNotify(env);
    this.overrides = new RuntimeOverrides(config.data_dir, log.child({ component: "overrides" }));
    this.gpio = parts.gpio ?? buildGpio(config);
    this.store = parts.store ?? buildStore(config, log);
    const p = config.publish;
    this.demoBroker = p.type === "mqtt" && p.embedded_broker ? new DemoBroker(p.embedded_broker, resolve(config.data_dir), log.child({ component: "broker" })) : undefined;
    this.publisher = parts.publisher ?? buildPublisher(config, log, this.demoBroker);
    this.frames = new FrameSampler(config.http.live_interval_ms, config.line.travel_ms);
    this.camera = this.frames.tap(parts.camera ?? buildCamera(config, log.child({ component: "camera" })));
    this.engine = new WorkerEngine(parts.engine ?? engineOptions(config), log.child({ component: "engine" }));
    this.actuation = new LineActuation(config, this.gpio, () => this.engineInfo?.version ?? "none", (p) => this.onSettled(p), log);
    this.tracker = this.actuation.tracker;
    this.trigger = parts.trigger ?? buildTrigger(config, this.gpio, this.actuation.encoder);
    this.pipeline = new Pipeline(
      {
        mode: config.line.mode,
        frameToleranceMs: config.line.frame_tolerance_ms,
        firstFrameTimeoutMs: config.line.first_frame_timeout_ms,
        maxInFlight: config.line.max_in_flight,
        engineQueue: config.engine_runtime.queue,
      },
      this.camera,
      this.trigger,
      () => this.engine,
      this.tracker,
      decideSettings(config.decide, undefined),
      log.child({ component: "pipeline" }),
    );
    this.snapshots = new SnapshotTaker(snapshotSettings(config), log.child({ component: "snapshots" }));
    this.pipeline.onFrameJudged((part, frame, judgement) => this.snapshots.consider(part.id, frame, judgement));
    this.drainer = new OutboxDrainer(this.store, this.publisher, config.publish.max_in_flight, log.child({ component: "outbox" }), (m) => !isSparkplugTopic(m.topic));
    this.http = config.http.enabled ? new HttpServer(config.http, this, () => this.store.review(), log.child({ component: "http" }), env) : undefined;
    const commands = p.type === "mqtt" ? p.commands : commandsSchema.parse({});
    this.commands = new Commands(
      {
        station: config.station,
        allow: commands.allow,
        maxPayloadBytes: commands.max_payload_bytes,
        replyPrefixes: commands.reply_prefixes,
        rate: commands.rate,
        rates: commands.rates,
      },
      pipelineCommandTarget(this.pipeline, {
        notReady: () => (this.state === "running" ? undefined : this.state === "starting" || this.state === "created" ? "starting: the model is not loaded yet" : this.state),
        testPulse: () => this.actuation.testPulse(),
        snapshot: () => this.snapshotNext(),
        reloadConfig: () => this.reloadFromSource(),
        swapModel: async (name) => (await this.swapModel(this.packageBeside(name))).version,
        setThreshold: (cls, value, by) => {
          this.overrides.set(cls, value, by);
          this.pipeline.decideSettings = this.judgedBy(this.config, this.engineInfo);
          this.log.info({ class: cls, threshold: value, by }, `${cls ?? "default"} threshold ${value === undefined ? "override cleared" : `set to ${value}`} by ${by}: kept across reloads, swaps and restarts`);
        },
      }),
      this.publisher,
      log.child({ component: "commands" }),
    );
    this.sparkplug = p.type === "mqtt" && p.sparkplug?.enabled ? this.buildSparkplug(config, p, p.sparkplug, commands, log) : undefined;
    const metricsMs = (p.type === "mqtt" ? p.metrics_interval_s : 10) * 1000;
    this.telemetry = new Telemetry(config.station, this.publisher, () => this.metrics(), metricsMs, log.child({ component: "telemetry" }));
    const announce = (alarm: Parameters<Telemetry["alarm"]>[0]) => {
      this.telemetry.alarm(alarm);
      this.activeAlarms.note(alarm);
    };
    this.store.onAlarm(announce);
    this.publisher.onProblem((problem) => {
      const alarm = { ...problem, active: true, timeMs: Date.now() };
      this.store.recordAlarm(alarm);
      announce(alarm);
    });
    this.alarms.on((alarm) => {
      this.store.recordAlarm(alarm);
      announce(alarm);
    });
  }

  /** Part ids restart with every run; run + part id is unique on this station. */
  get runId(): string {
    return this.store.runId;
  }

  /** The periodic `metrics` message. */
  metrics(): Record<string, unknown> {
    const c = this.tracker.counters;
    return {
      triggered: c.triggered,
      accepted: c.accepted,
      rejected: c.rejected,
      failsafe: c.failsafe(),
      in_flight: this.tracker.inFlight(),
      paused: this.pipeline.paused,
      threshold_overrides: this.overrides.view(),
      store: this.store.stats(),
      outbox: { published: this.drainer.published, failures: this.drainer.failures, refused: this.drainer.refused },
      commands: this.commands.counts,
      ...(this.sparkplug && { sparkplug: this.sparkplug.node.counts }),
    };
  }

  /** The edge node on its own connection, reading the station's books; its DCMDs go through the station's commands. */
  private buildSparkplug(
    config: Config,
    p: Extract<Config["publish"], { type: "mqtt" }>,
    s: NonNullable<Extract<Config["publish"], { type: "mqtt" }>["sparkplug"]>,
    commands: Extract<Config["publish"], { type: "mqtt" }>["commands"],
    log: Logger,
  ): NonNullable<App["sparkplug"]> {
    const source = stationSource(
      {
        summary: () => this.summary(),
        health: () => this.health(),
        model: () => this.engineInfo,
        defectClasses: () => this.pipeline.labels.filter((l) => l !== this.pipeline.decideSettings.okLabel),
        thresholds: () => ({ threshold: this.pipeline.decideSettings.threshold, thresholds: this.pipeline.decideSettings.thresholds }),
        commandStats: () => this.commands.counts,
        activeAlarms: () => this.activeAlarms.codes(),
      },
      config.station.line,
    );
    const node = new SparkplugNode(edgeNodeOptions(config, p, s, this.demoBroker), source, log.child({ component: "sparkplug" }));
    const dcmd = new DeviceCommands(this.commands, commands.max_payload_bytes, s.dcmd_identity, () => node.flushChanges(), log.child({ component: "sparkplug" }));
    node.onDeviceCommand((c) => void dcmd.handle(c).catch((err: unknown) => log.error({ err }, "DCMD handling failed")));
    const drainer = new OutboxDrainer(this.store, node, p.max_in_flight, log.child({ component: "sparkplug-outbox" }), (m) => isSparkplugTopic(m.topic));
    return { node, id: edgeNodeId(config, s), drainer, jsonTopics: s.json_topics };
  }

  /** Escaped parts, bins full, unconfirmed rejects: for the publisher and the operator. */
  get alarms(): Alarms {
    return this.actuation.alarms;
  }

  /** What the reject core's thread got (priority, locked memory) and how late it woke for each pulse. */
  rejectTiming(): CoreStats | undefined {
    return this.actuation.scheduler.stats();
  }

  addSettledListener(listener: (p: SettledPart) => void): void {
    this.settledListeners.push(listener);
  }

  async start(): Promise<void> {
    this.state = "starting";
    const step = async <T>(name: string, fn: () => Promise<T>): Promise<T> => {
      try {
        return await fn();
      } catch (err) {
        throw new EdgeError(stationCode(err, "E_START"), `start failed at ${name}: ${(err as Error).message}`, { cause: err });
      }
    };
    // Before the line starts its threads: they inherit it.
    const niceRefused = setThreadNice(this.config.lifecycle.nice);
    if (niceRefused) this.log.warn({ code: "E_NICE" }, `the line's threads run at normal priority: ${niceRefused}; on a busy machine verdicts may be late (those parts get the fail-safe action)`);
    // Outputs are already at their safe level: Gpio.output() starts them there;
    // the reject core takes its lines before anything can make a part.
    await step("actuation", () => this.actuation.start());
    await step("store", () => this.store.open());
    if (this.http) await step("http", () => this.startHttp(this.http!));
    if (this.demoBroker) await step("broker", () => this.demoBroker!.start());
    await step("publisher", () => this.publisher.connect());
    this.drainer.start();
    await step("commands", () => this.commands.start());
    if (this.sparkplug?.jsonTopics !== false) this.telemetry.start();
    this.overrides.load();
    this.engineInfo = await step("engine", () => this.engine.load());
    this.log.info({ engine: this.engineInfo }, `model ${this.engineInfo.name} ${this.engineInfo.version} loaded on ${this.engineInfo.backend}`);
    const problems = this.modelProblems(this.engineInfo);
    if (problems.length > 0) throw new EdgeError("E_CONFIG", `start failed at engine: the config does not fit model ${this.engineInfo.name}:\n${problems.join("\n")}`);
    this.pipeline.decideSettings = this.judgedBy(this.config, this.engineInfo);
    await step("camera", () => this.pipeline.start(this.engineInfo!.labels));
    // Born once the model's classes are known: the birth certificate names every metric the line will report.
    if (this.sparkplug) {
      await step("sparkplug", () => this.sparkplug!.node.start());
      this.sparkplug.drainer.start();
    }
    this.state = "running";
    const ready = `running: ${this.config.line.mode}, model ${this.engineInfo.version}`;
    this.notify.ready(ready);
    const wdMs = Watchdog.intervalFromEnv(process.env);
    if (wdMs && this.notify.enabled) {
      this.watchdog = new Watchdog(this.notify, wdMs, () => ({
        settled: this.tracker.counters.accepted + this.tracker.counters.rejected,
        inFlight: this.tracker.inFlight(),
      }));
      this.watchdog.start();
    }
    this.progressTimer = setInterval(() => this.reportProgress(), this.config.lifecycle.progress_report_ms);
    this.progressTimer.unref();
    this.log.info({ mode: this.config.line.mode, camera: this.camera.kind, gpio: this.gpio.kind, store: this.store.kind, publisher: this.publisher.kind }, "READY");
  }

  /** Graceful stop: no new parts, parts in flight finish, everything flushed, outputs safe. */
  async stop(reason: string): Promise<Summary> {
    if (this.state === "stopping" || this.state === "stopped") return this.summary();
    this.state = "stopping";
    const timeout = this.config.lifecycle.stop_timeout_ms;
    // One budget for the whole stop, whatever the broker does: its end is kept for the broker's
    // goodbye and closing the rest, the outbox gets what the parts left before that.
    const deadline = Date.now() + timeout;
    this.notify.stopping();
    this.log.info({ reason, inFlight: this.tracker.inFlight() }, "stopping: finishing parts in flight");
    if (this.progressTimer) clearInterval(this.progressTimer);
    this.watchdog?.stop();
    await this.pipeline.stopIntake();
    const idle = await Promise.race([this.tracker.idle().then(() => true), delay(Math.max(0, deadline - Date.now())).then(() => false)]);
    if (!idle) this.log.error({ inFlight: this.tracker.inFlight() }, `parts still in flight after ${timeout} ms`);
    await this.engine.close();
    await Promise.all(this.pendingRecords);
    await this.store.flush();
    if (!(await this.drainer.drained(Math.max(0, Math.min(2000, deadline - Date.now() - STOP_CLOSE_MS - STOP_TAIL_MS))))) {
      this.log.warn({ outbox: this.store.stats().outbox }, "outbox not empty at stop: it is kept and sent after the next start");
    }
    this.drainer.stop();
    this.sparkplug?.drainer.stop();
    this.telemetry.stop();
    const closeMs = Math.max(STOP_CLOSE_MS / 2, Math.min(STOP_CLOSE_MS, deadline - Date.now() - STOP_TAIL_MS));
    await Promise.all([this.publisher.close(closeMs), this.sparkplug?.node.close(closeMs)]);
    await this.demoBroker?.close();
    await this.http?.stop();
    await this.store.close();
    await this.actuation.stop();
    this.gpio.safe();
    await this.gpio.close();
    this.notify.close();
    this.state = "stopped";
    const s = this.summary();
    this.stats.close();
    return s;
  }

  /** Last-resort path for signals and crashes: outputs to their safe level, synchronously. */
  emergencySafe(): void {
    try {
      this.actuation.emergencySafe();
    } finally {
      this.gpio.safe();
    }
  }

  summary(): Summary {
    return this.stats.summary(this.tracker.counters, this.tracker.inFlight(), this.tracker.checkInvariant());
  }

  /**
   * Hot swap: loads the package in `dir` beside the running model, in its
   * own worker, where it must pass its checks (hashes, shapes, warm-up,
   * golden images) and fit the config's class names; then switches between
   * two parts. The old model answers the parts it already holds and is
   * closed after. On any failure the running model stays, and the error
   * says why.
   */
  async swapModel(dir: string, variant?: string, config: Config = this.config): Promise<EngineInfo> {
    const e = config.engine;
    const running = this.engineInfo;
    const refuse = (code: ErrorCode, why: string) => {
      this.log.error({ code, dir }, `model swap refused, keeping ${running?.name ?? "none"} ${running?.version ?? ""}: ${why}`);
      return new EdgeError(code, `model swap refused, keeping ${running?.name ?? "none"} ${running?.version ?? ""}: ${why}`);
    };
    if (this.state !== "running" || !running) throw refuse("E_STATE", `the station is ${this.state}`);
    if (e.type === "simulated") throw refuse("E_SWAP", "the simulated engine has no model package");
    if (this.swapping) throw refuse("E_SWAP_BUSY", "another swap is in progress");
    this.swapping = true;
    try {
      const rt = this.config.engine_runtime;
      const next = new WorkerEngine(
        packageEngineOptions({ ...e, package: dir, variant: variant ?? e.variant }, { queue: rt.queue, hangTimeoutMs: rt.hang_timeout_ms, loadTimeoutMs: rt.load_timeout_ms }),
        this.log.child({ component: "engine" }),
      );
      let info: EngineInfo;
      try {
        info = await next.load();
        const problems = this.modelProblems(info, config);
        if (problems.length > 0) throw new EdgeError("E_MODEL_LABELS", `the config does not fit it: ${problems.join("; ")}`);
      } catch (err) {
        await next.close();
        throw refuse(stationCode(err, "E_MODEL_LOAD"), (err as Error).message);
      }
      const old = this.engine;
      // One synchronous step: every part from here on is judged by the new model.
      this.engine = next;
      this.engineInfo = info;
      this.pipeline.labels = info.labels;
      this.pipeline.decideSettings = this.judgedBy(config, info);
      this.log.info({ engine: info, previous: running.version }, `model swapped: ${running.name} ${running.version} -> ${info.name} ${info.version} on ${info.backend}`);
      const until = Date.now() + rt.hang_timeout_ms;
      while (old.pending() > 0 && Date.now() < until) await delay(5);
      await old.close();
      return info;
    } finally {
      this.swapping = false;
    }
  }

  /** Where the config comes from, for reloads (the CLI sets it to the file it read). */
  configSource: (() => Config) | undefined;

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
    const partId = await this.snapshots.next(timeoutMs);
    if (partId === undefined) throw new EdgeError("E_CMD_UNAVAILABLE", `no frame was judged within ${timeoutMs} ms (paused, or no parts)`);
    return snapshotPath(this.runId, partId);
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
    if (engineChanged && nxt.type !== "simulated") await this.swapModel(nxt.package, nxt.variant, next);
    else if (this.engineInfo) {
      const problems = this.modelProblems(this.engineInfo, next);
      if (problems.length > 0) throw new EdgeError("E_MODEL_LABELS", `reload refused, nothing applied: ${problems.join("; ")}`);
    }
    this.config = next;
    this.pipeline.decideSettings = this.judgedBy(next, this.engineInfo);
    this.snapshots.settings = snapshotSettings(next);
    this.log.level = next.log.level;
    this.log.info({ changed }, changed.length > 0 ? `config reloaded: ${changed.join(", ")}` : "config reloaded: nothing changed");
    return changed;
  }

  /** The decide settings in force: the package's, the config's over them, the operator's runtime overrides over both. */
  private judgedBy(config: Config, info: EngineInfo | undefined): DecideSettings {
    if (info) {
      const kept = Object.keys(this.overrides.view().thresholds).map((cls) => ({ path: `runtime override ${cls}`, label: cls }));
      for (const p of labelProblems(info.labels, kept)) this.log.warn({ code: "E_OVERRIDES_CLASS" }, `${p}: kept, applies again with a model that has it`);
    }
    return decideSettings(this.overrides.over(config.decide), info);
  }

  /** Class names the config uses that the model lacks, as `path: problem`. */
  private modelProblems(info: EngineInfo, config: Config = this.config): string[] {
    const d = config.decide;
    const uses = Object.keys(d.thresholds).map((cls) => ({ path: `decide.thresholds.${cls}`, label: cls }));
    if (d.ok_label !== undefined) uses.push({ path: "decide.ok_label", label: d.ok_label });
    config.actuation.bins.forEach((b, i) => b.classes.forEach((cls, j) => uses.push({ path: `actuation.bins.${i}.classes.${j}`, label: cls })));
    return labelProblems(info.labels, uses);
  }

  /** For the review server, /metrics and /healthz. */
  health(): StationHealth {
    return {
      state: this.state,
      paused: this.pipeline.paused,
      modelVersion: this.engineInfo?.version ?? "none",
      overrides: this.overrides.view(),
      camera: this.camera.stats(),
      engineQueue: this.engine.pending(),
      inFlight: this.tracker.inFlight(),
      store: this.store.stats(),
      threads: threadHealth(),
    };
  }

  /**
   * The line does not need the review server to inspect: a port already taken
   * is an alarm, not a reason to leave parts unjudged. Bad http config still
   * refuses the start.
   */
  private async startHttp(http: HttpServer): Promise<void> {
    try {
      await http.start();
    } catch (err) {
      if ((err as EdgeError).code !== "E_HTTP_LISTEN") throw err;
      const alarm = { code: "E_HTTP_LISTEN", message: (err as Error).message, active: true, timeMs: Date.now() };
      this.log.error({ code: alarm.code }, `operator review unavailable: ${alarm.message}`);
      this.store.recordAlarm(alarm);
    }
  }

  private onSettled(p: SettledPart): void {
    this.stats.add(p);
    const snapshot = this.snapshots.take(p.id);
    if (snapshot) {
      // The JPEG is being encoded off the event loop; the row waits for it,
      // the line does not.
      const pending = snapshot.then((jpeg) => this.record(p, jpeg));
      this.pendingRecords.add(pending);
      void pending.finally(() => this.pendingRecords.delete(pending));
    } else {
      this.record(p, undefined);
    }
    for (const l of this.settledListeners) l(p);
  }

  /** The inspection, its defect message and its snapshot: one store transaction. */
  private record(p: SettledPart, jpeg: Buffer | undefined): void {
    const snapshot = jpeg ? snapshotPath(this.runId, p.id) : null;
    const outbox = [];
    if (p.outcome === "rejected") {
      const defect = defectMessage(this.config.station, this.runId, p, snapshot);
      if (this.sparkplug?.jsonTopics !== false) outbox.push(defect);
      // The line is the device: today the station's one line.
      if (this.sparkplug) outbox.push(sparkplugDefectEntry(this.sparkplug.id, this.config.station.line, defect));
    }
    this.store.record(p, outbox, jpeg);
  }

  private reportProgress(): void {
    const c = this.tracker.counters;
    const w = this.stats.takeWindow();
    this.log.info(
      {
        triggered: c.triggered,
        accepted: c.accepted,
        rejected: c.rejected,
        failsafe: c.failsafe(),
        inFlight: this.tracker.inFlight(),
        dropped: c.framesDropped,
        camera: this.camera.stats(),
        outbox: this.store.stats().outbox,
        // Since the previous report: a long run's drift shows line by line.
        window: w,
      },
      `parts ${c.triggered}: ${c.accepted} accepted, ${c.rejected} rejected (${c.failsafe()} fail-safe), ${this.tracker.inFlight()} in flight`,
    );
  }
}

function snapshotSettings(config: Config): SnapshotSettings {
  const s = config.snapshots;
  return { rejected: s.rejected, acceptedSample: s.accepted_sample, quality: s.quality };
}

/** The broker's share of a stop: its clean disconnect, one round trip. */
const STOP_CLOSE_MS = 1000;
/** What a stop needs after the broker: closing the store, the outputs and the threads. */
const STOP_TAIL_MS = 500;

function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms).unref());
}

/**
 * Every source type runs in a capture thread; the config says which. The line
 * holds a frame past its delivery while the part on it is judged (at most the
 * engine's queue, plus one from a model being swapped out) and, when
 * triggered, in the matcher.
 */
function buildCamera(config: Config, log: Logger): Camera {
  const held = config.engine_runtime.queue + 1 + (config.line.mode === "triggered" ? FRAMES_KEPT : 0);
  return new WorkerCamera(config.camera, log, held);
}

function buildTrigger(config: Config, gpio: Gpio, encoder: Encoder | undefined): Trigger | undefined {
  const t = config.trigger;
  if (!t) return undefined;
  switch (t.type) {
    case "simulated":
      return new SimulatedTrigger(t.rate_hz, t.jitter_ms);
    case "gpio":
      return new GpioTrigger(gpio.input(inputSpec(t.input, t.edge)), t.debounce_ms, encoder);
  }
}

function buildStore(config: Config, log: Logger): Store {
  const r = config.records;
  switch (r.type) {
    case "memory":
      return new MemoryStore(r.batch_ms);
    case "sqlite":
      return new SqliteStore(sqliteStoreOptions(config.data_dir, r), log.child({ component: "records" }));
  }
}

function buildPublisher(config: Config, log: Logger, embedded: DemoBroker | undefined): Publisher {
  const p = config.publish;
  switch (p.type) {
    case "memory":
      return new MemoryPublisher();
    case "mqtt":
      return new MqttPublisher(mqttPublisherOptions(config, p, embedded), log.child({ component: "mqtt" }));
  }
}

function buildGpio(config: Config): Gpio {
  const g = config.actuation.gpio;
  switch (g.type) {
    case "simulated":
      return new SimulatedGpio();
    case "onoff":
      return new OnoffGpio();
    case "gpiod":
      return new ChardevGpio(g.chip);
  }
}

function engineOptions(config: Config): WorkerEngineOptions {
  const e = config.engine;
  const rt = config.engine_runtime;
  const base = { queue: rt.queue, hangTimeoutMs: rt.hang_timeout_ms, loadTimeoutMs: rt.load_timeout_ms };
  switch (e.type) {
    case "simulated": {
      const options: SimulatedBackendOptions = {
        labels: e.labels,
        okLabel: config.decide.ok_label ?? "ok",
        latencyMs: e.latency_ms,
        errorRate: e.error_rate,
        seed: e.seed,
      };
      return { ...base, module: new URL("./inference/simulated-backend.js", import.meta.url).href, options };
    }
    case "onnx":
    case "tfjs":
      return packageEngineOptions(e, base);
  }
}
