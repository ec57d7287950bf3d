import type { Camera, CameraFrame, Frame } from "../capture/camera.js";
import type { Trigger, TriggerEvent } from "../trigger/trigger.js";
import { FrameMatcher } from "../trigger/frame-matcher.js";
import { decide, type DecideSettings } from "../decide/decide.js";
import type { Judging } from "../house/model-slot.js";
import type { PartTracker } from "../actuation/tracker.js";
import { nowMs } from "../util/clock.js";
import { errorCode, errorMessage } from "../util/errors.js";
import type { Logger } from "../util/log.js";
import type { Judgement, Part } from "./part.js";

export interface PipelineSettings {
  mode: "free-run" | "triggered";
  frameToleranceMs: number;
  firstFrameTimeoutMs: number;
  maxInFlight: number;
  /** Engine queue depth: free-run frames beyond it are dropped, not queued. */
  engineQueue: number;
}

/**
 * trigger → capture → infer → decide → tracker. Every part created here gets
 * exactly one judgement or fail-safe from here or from the tracker's deadline.
 */
export class Pipeline {
  private matcher: FrameMatcher;
  private accepting = false;
  paused = false;
  /** A bounded run stops taking parts after this many. */
  maxParts = Infinity;
  private limitListener: (() => void) | undefined;
  private firstFrame: (() => void) | undefined;
  private judgedListener: ((part: Part, frame: Frame, judgement: Judgement | undefined) => void) | undefined;

  constructor(
    private readonly settings: PipelineSettings,
    private readonly camera: Camera,
    private readonly trigger: Trigger | undefined,
    /** The model in force: its owner (the line's model slot) changes it between two frames. */
    private readonly model: () => Judging,
    private readonly tracker: PartTracker,
    private readonly log: Logger,
  ) {
    this.matcher = new FrameMatcher(settings.frameToleranceMs, () => camera.stats().connected);
  }

  get labels(): string[] {
    return this.model().labels;
  }

  get decideSettings(): DecideSettings {
    return this.model().settings;
  }

  async start(): Promise<void> {
    this.accepting = true;
    if (this.settings.mode !== "triggered") {
      await this.camera.start((f) => this.onFrame(f));
      return;
    }
    // Triggers are taken once the camera delivers: a part triggered while the
    // camera is still opening would fail safe for nothing but start-up order.
    const firstFrame = new Promise<boolean>((resolve) => {
      this.firstFrame = () => resolve(true);
      setTimeout(() => resolve(false), this.settings.firstFrameTimeoutMs).unref();
    });
    await this.camera.start((f) => this.onFrame(f));
    if (!(await firstFrame)) {
      this.log.warn(`no frame from the camera within ${this.settings.firstFrameTimeoutMs} ms: taking triggers anyway, their parts fail safe until it delivers`);
    }
    await this.trigger!.start((e) => this.onTrigger(e));
  }

  /** Stops taking new parts; parts in flight go on to their verdicts. */
  async stopIntake(): Promise<void> {
    this.accepting = false;
    if (this.trigger) await this.trigger.stop();
    await this.camera.stop();
    this.matcher.cancelAll();
  }

  onLimit(listener: () => void): void {
    this.limitListener = listener;
  }

  /**
   * Called with the frame of each part the engine has answered for (the
   * judgement is undefined when it failed), while the frame is still in hand.
   * Parts that had already failed safe are not reported.
   */
  onFrameJudged(listener: (part: Part, frame: Frame, judgement: Judgement | undefined) => void): void {
    this.judgedListener = listener;
  }

  private newPart(ev: TriggerEvent): Part | undefined {
    if (!this.accepting) return undefined;
    const part = this.tracker.create(ev);
    if (this.tracker.counters.triggered >= this.maxParts) {
      this.accepting = false;
      this.limitListener?.();
    }
    return part;
  }

  private onFrame(frame: CameraFrame): void {
    this.firstFrame?.();
    this.firstFrame = undefined;
    if (this.settings.mode === "triggered") {
      this.matcher.offer(frame);
      return;
    }
    if (!this.accepting || this.paused) return;
    // Free-run: a frame becomes a part only if the line can judge it in time;
    // otherwise it is dropped and counted, before it is a part.
    if (!this.tracker.reachable(frame.tCaptureMs)) {
      this.tracker.counters.framesStale++;
      return;
    }
    if (this.model().engine.pending() >= this.settings.engineQueue || this.tracker.inFlight() >= this.settings.maxInFlight) {
      this.tracker.counters.framesDropped++;
      return;
    }
    const part = this.newPart({ tMs: frame.tCaptureMs });
    if (!part) return;
    part.stages.capture = 0;
    void this.judge(part, frame, frame.retain());
  }

  private onTrigger(ev: TriggerEvent): void {
    const part = this.newPart(ev);
    if (!part) return;
    if (this.tracker.inFlight() > this.settings.maxInFlight) {
      this.tracker.failSafe(part, "overload", `more than ${this.settings.maxInFlight} parts in flight`);
      return;
    }
    void this.matcher.take(ev.tMs).then((held) => {
      if (!held) {
        this.tracker.failSafe(part, "no-frame", `no frame within ${this.settings.frameToleranceMs} ms of the trigger`);
        return;
      }
      part.stages.capture = Math.max(0, nowMs() - part.tTriggerMs);
      return this.judge(part, held.frame, held.release);
    });
  }

  /** Judges `part` on `frame`, which the caller retained: let go here once judged. */
  private async judge(part: Part, frame: Frame, release: () => void): Promise<void> {
    part.frameSeq = frame.seq;
    if (frame.truth) part.truth = frame.truth;
    // The model may be swapped while this part is inferred: it is decided
    // with the labels and thresholds of the model that judged it.
    const { engine, labels, settings } = this.model();
    try {
      const r = await engine.infer(frame);
      part.stages.preprocess = r.preprocessMs;
      part.stages.infer = r.inferMs;
      const t = nowMs();
      const judgement = { ...decide(r.output, labels, settings), modelVersion: r.modelVersion };
      part.stages.decide = nowMs() - t;
      if (!part.judgement) this.judgedListener?.(part, frame, judgement);
      this.tracker.judge(part, judgement);
    } catch (err) {
      const code = errorCode(err);
      const reason = code === "E_ENGINE_OVERLOAD" ? "overload" : "error";
      this.log.warn({ part: part.id, code, err: errorMessage(err) }, `part ${part.id} fails safe: ${reason}`);
      if (!part.judgement && reason === "error") this.judgedListener?.(part, frame, undefined);
      this.tracker.failSafe(part, reason, `${code}: ${errorMessage(err)}`);
    } finally {
      release();
    }
  }
}
