import { viewsOf, type Config } from "../config/schema.js";
import type { Camera, CameraStats } from "../capture/camera.js";
import type { Trigger } from "../trigger/trigger.js";
import type { WorkerEngineOptions } from "../inference/worker-engine.js";
import type { RuntimeOverrides } from "../decide/runtime-overrides.js";
import type { Gpio } from "../actuation/gpio.js";
import { LineActuation } from "../actuation/line-actuation.js";
import type { PartTracker } from "../actuation/tracker.js";
import type { Alarms } from "../actuation/alarms.js";
import type { CoreStats } from "../actuation/reject-core.js";
import type { TestPulse } from "../actuation/reject-plan.js";
import { SnapshotTaker, type SnapshotSettings } from "../records/snapshot-taker.js";
import { Pipeline } from "../pipeline/pipeline.js";
import { RunStats, type Summary } from "../pipeline/run-stats.js";
import type { SettledPart } from "../pipeline/part.js";
import { FrameSampler } from "../http/frame-sampler.js";
import type { StationHealth } from "../http/station.js";
import { threadHealth } from "../threads/thread-health.js";
import type { Logger } from "../util/log.js";
import { sleepUnref } from "../util/clock.js";
import { EdgeError } from "../util/errors.js";
import type { EngineInfo } from "../inference/engine.js";
import { buildCamera, buildTrigger, engineOptions } from "./build.js";
import { ModelSlot } from "./model-slot.js";
import type { SharedEngines } from "./shared-engines.js";

/** Edges a caller (a test, a bench) may supply for a line instead of the configured ones. */
export interface LineParts {
  camera?: Camera;
  trigger?: Trigger;
  engine?: WorkerEngineOptions;
}

/** One camera of a line, and the model that judges what it sees. */
export interface LineView {
  name: string;
  camera: Camera;
  model: ModelSlot;
}

/** Where a line's settled parts go, and what its progress reports add from the rest of the station. */
export interface LineSink {
  /** The part's row, its messages and its snapshot, in one store transaction. */
  record(part: SettledPart, jpeg: Buffer | undefined): void;
  progress(): Record<string, unknown>;
}

/**
 * One inspection line: its camera (tapped for the live view), trigger,
 * model, pipeline, actuation (tracker, reject core, sensors, alarms),
 * snapshots, run statistics and progress reports. It knows nothing of the
 * records, the broker or the review server: settled parts leave through
 * the sink it is given.
 */
export class Line {
  readonly name: string;
  /** Its cameras: one, or several looking at the same part (config `views:`). */
  readonly views: LineView[];
  readonly pipeline: Pipeline;
  readonly tracker: PartTracker;
  readonly actuation: LineActuation;
  readonly stats = new RunStats();
  /** A few frames kept until their verdict, so the live view shows the one a verdict was made on. */
  readonly frames: FrameSampler;
  private readonly snapshots: SnapshotTaker;
  /** Settled parts whose row waits for its snapshot to be encoded. */
  private readonly pendingRecords = new Set<Promise<void>>();
  private readonly settledListeners: Array<(p: SettledPart) => void> = [];
  private progressTimer: NodeJS.Timeout | undefined;

  constructor(
    private current: Config,
    gpio: Gpio,
    parts: LineParts,
    /** Thresholds set over the network for this line, kept in the data directory. */
    readonly overrides: RuntimeOverrides,
    private readonly sink: LineSink,
    private readonly log: Logger,
    engines: SharedEngines,
    nextPartId?: () => number,
  ) {
    const config = current;
    this.name = config.station.line;
    this.frames = new FrameSampler(config.http.live_interval_ms, config.line.travel_ms);
    const several = config.views !== undefined;
    this.views = viewsOf(config).map((v, i) => {
      const at = several ? { view: v.name } : {};
      const own = viewConfig(config, v.name);
      const camera = (i === 0 ? parts.camera : undefined) ?? buildCamera(own, log.child({ component: "camera", ...at }));
      const engineLog = log.child({ component: "engine", ...at });
      const share = engines.share((i === 0 ? parts.engine : undefined) ?? engineOptions(own), engineLog);
      // The live view shows the first view's frames.
      return { name: v.name, camera: i === 0 ? this.frames.tap(camera) : camera, model: new ModelSlot(share, own, overrides, engineLog) };
    });
    this.actuation = new LineActuation(config, gpio, () => this.modelVersion(), (p) => this.onSettled(p), log, nextPartId);
    this.tracker = this.actuation.tracker;
    const trigger = parts.trigger ?? buildTrigger(config, gpio, this.actuation.encoder);
    this.pipeline = new Pipeline(
      {
        mode: config.line.mode,
        frameToleranceMs: config.line.frame_tolerance_ms,
        firstFrameTimeoutMs: config.line.first_frame_timeout_ms,
        maxInFlight: config.line.max_in_flight,
        engineQueue: config.engine_runtime.queue,
      },
      this.views.map((v) => ({ name: v.name, camera: v.camera, model: () => v.model.judging() })),
      trigger,
      this.tracker,
      log.child({ component: "pipeline" }),
    );
    this.snapshots = new SnapshotTaker(snapshotSettings(config), log.child({ component: "snapshots" }));
    this.pipeline.onFrameJudged((part, frames, judgement) => this.snapshots.consider(part.id, frames, judgement, several));
  }

  /** Escaped parts, bins full, unconfirmed rejects: for the publisher and the operator. */
  get alarms(): Alarms {
    return this.actuation.alarms;
  }

  /** The line's config as it runs (reloads change its live sections). */
  get config(): Config {
    return this.current;
  }

  get mode(): Config["line"]["mode"] {
    return this.current.line.mode;
  }

  /** The first view's model: the line's one on most lines. */
  get model(): ModelSlot {
    return this.views[0]!.model;
  }

  /** The version of each model the line's views run, as one: `1.0.0`, or `1.0.0+2.1.0` for views on two models. */
  modelVersion(): string {
    return [...new Set(this.views.map((v) => v.model.info?.version ?? "none"))].join("+");
  }

  /** The operator's overrides the last run left, then each view's model, checked against the config. */
  async loadModel(): Promise<void> {
    this.overrides.load();
    for (const v of this.views) await v.model.load();
  }

  /** The overrides changed: every view judges its next frame by them. */
  rejudge(): void {
    for (const v of this.views) v.model.rejudge();
  }

  /** Refuses a reloaded config a view's running model does not fit. */
  check(next: Config): void {
    for (const v of this.views) v.model.check(viewConfig(next, v.name));
  }

  /**
   * Hot swap of the line's model: every view judged by the line's `engine`
   * (not one with a model of its own) moves to the package in `dir`, each
   * as ModelSlot.swap does it.
   */
  async swapModel(dir: string, variant: string | undefined, config: Config, state: string): Promise<EngineInfo> {
    const line = JSON.stringify(this.current.engine);
    const targets = this.views.filter((v) => JSON.stringify(viewConfig(this.current, v.name).engine) === line);
    if (targets.length === 0) throw new EdgeError("E_SWAP", `model swap refused: every view of line ${this.name} has a model of its own (views.<view>.engine); change them in the config`);
    let info: EngineInfo | undefined;
    for (const v of targets) info = await v.model.swap(dir, variant, viewConfig(config, v.name), state);
    return info!;
  }

  /** The parts' camera, trigger and intake: taken once the model is loaded and the outputs are held. */
  startIntake(): Promise<void> {
    const started = this.pipeline.start();
    this.progressTimer = setInterval(() => this.reportProgress(), this.current.lifecycle.progress_report_ms);
    this.progressTimer.unref();
    return started;
  }

  /** No new parts; parts in flight go on to their verdicts, within `deadline` (epoch ms). */
  async finish(deadline: number): Promise<void> {
    if (this.progressTimer) clearInterval(this.progressTimer);
    await this.pipeline.stopIntake();
    const idle = await Promise.race([this.tracker.idle().then(() => true), sleepUnref(Math.max(0, deadline - Date.now())).then(() => false)]);
    if (!idle) this.log.error({ inFlight: this.tracker.inFlight() }, `parts still in flight after ${this.current.lifecycle.stop_timeout_ms} ms`);
    await Promise.all(this.views.map((v) => v.model.close()));
    await Promise.all(this.pendingRecords);
  }

  /** The live sections of a reloaded config (decide, snapshots): checked against the model first. */
  reconfigure(next: Config): void {
    for (const v of this.views) v.model.reconfigure(viewConfig(next, v.name));
    this.current = next;
    this.snapshots.settings = snapshotSettings(next);
  }

  addSettledListener(listener: (p: SettledPart) => void): void {
    this.settledListeners.push(listener);
  }

  /** Keeps the next judged frame as a snapshot, whatever its verdict; resolves with its part id. */
  snapshotNext(timeoutMs: number): Promise<number | undefined> {
    return this.snapshots.next(timeoutMs);
  }

  testPulse(): Promise<TestPulse> {
    return this.actuation.testPulse();
  }

  /** What the reject core's thread got (priority, locked memory) and how late it woke for each pulse. */
  rejectTiming(): CoreStats | undefined {
    return this.actuation.scheduler.stats();
  }

  summary(): Summary {
    return this.stats.summary(this.tracker.counters, this.tracker.inFlight(), this.tracker.checkInvariant());
  }

  /** The line's part of the periodic `metrics` message. */
  metrics(): { triggered: number; accepted: number; rejected: number; failsafe: number; in_flight: number; paused: boolean; threshold_overrides: StationHealth["overrides"] } {
    const c = this.tracker.counters;
    return {
      triggered: c.triggered,
      accepted: c.accepted,
      rejected: c.rejected,
      failsafe: c.failsafe(),
      in_flight: this.tracker.inFlight(),
      paused: this.pipeline.paused,
      threshold_overrides: this.overrides.view(),
    };
  }

  health(state: string, store: StationHealth["store"]): StationHealth {
    return {
      state,
      paused: this.pipeline.paused,
      modelVersion: this.modelVersion(),
      overrides: this.overrides.view(),
      camera: this.views[0]!.camera.stats(),
      engineQueue: this.views.reduce((n, v) => n + v.model.pending(), 0),
      ...(this.views.length > 1 && { views: this.views.map((v) => ({ name: v.name, camera: v.camera.stats(), modelVersion: v.model.info?.version ?? "none", engineQueue: v.model.pending() })) }),
      inFlight: this.tracker.inFlight(),
      store,
      threads: threadHealth(),
    };
  }

  /** What the line's cameras are, for the start-up log: `synthetic`, or `top synthetic, bottom v4l2`. */
  cameraKind(): string {
    return this.views.length === 1 ? this.views[0]!.camera.kind : this.views.map((v) => `${v.name} ${v.camera.kind}`).join(", ");
  }

  private cameraStats(): CameraStats | Record<string, CameraStats> {
    return this.views.length === 1 ? this.views[0]!.camera.stats() : Object.fromEntries(this.views.map((v) => [v.name, v.camera.stats()]));
  }

  private onSettled(p: SettledPart): void {
    this.stats.add(p);
    const snapshot = this.snapshots.take(p.id);
    if (snapshot) {
      // The JPEG is being encoded off the event loop; the row waits for it,
      // the line does not.
      const pending = snapshot.then((jpeg) => this.sink.record(p, jpeg));
      this.pendingRecords.add(pending);
      void pending.finally(() => this.pendingRecords.delete(pending));
    } else {
      this.sink.record(p, undefined);
    }
    for (const l of this.settledListeners) l(p);
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
        camera: this.cameraStats(),
        ...this.sink.progress(),
        // Since the previous report: a long run's drift shows line by line.
        window: w,
      },
      `parts ${c.triggered}: ${c.accepted} accepted, ${c.rejected} rejected (${c.failsafe()} fail-safe), ${this.tracker.inFlight()} in flight`,
    );
  }
}

/** A view's config as a line of its own: the line's sections, the view's camera and engine. */
function viewConfig(config: Config, view: string): Config {
  const v = viewsOf(config).find((x) => x.name === view)!;
  return { ...config, camera: v.camera, engine: v.engine };
}

function snapshotSettings(config: Config): SnapshotSettings {
  const s = config.snapshots;
  return { rejected: s.rejected, acceptedSample: s.accepted_sample, quality: s.quality };
}
