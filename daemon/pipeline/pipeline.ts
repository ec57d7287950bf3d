import type { Camera, CameraFrame, Frame } from "../capture/camera.js";
import type { Trigger, TriggerEvent } from "../trigger/trigger.js";
import { FrameMatcher, type HeldFrame } from "../trigger/frame-matcher.js";
import { decide, type DecideSettings } from "../decide/decide.js";
import { worstView, type ViewOutcome } from "../decide/worst-view.js";
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

/** One camera of the line and the model that judges what it sees. */
export interface PipelineView {
  name: string;
  camera: Camera;
  /** The view's model in force: its owner (a model slot) changes it between two frames. */
  model: () => Judging;
}

/** A view's frame the engine answered for (the judgement is undefined when it failed), still in hand. */
export interface JudgedFrame {
  view: string;
  frame: Frame;
  judgement: Judgement | undefined;
}

/**
 * trigger → capture (every view) → infer → decide (the worst view's verdict)
 * → tracker. Every part created here gets exactly one judgement or fail-safe
 * from here or from the tracker's deadline. Triggered, each view's frame is
 * the one captured nearest the trigger; in free-run the first view's frames
 * make the parts and the other views' are paired with them by capture time.
 */
export class Pipeline {
  private readonly matchers: FrameMatcher[];
  private accepting = false;
  paused = false;
  /** A bounded run stops taking parts after this many. */
  maxParts = Infinity;
  private limitListener: (() => void) | undefined;
  private firstFrames: { waiting: Set<number>; resolve: () => void } | undefined;
  private judgedListener: ((part: Part, frames: JudgedFrame[], judgement: Judgement | undefined) => void) | undefined;

  constructor(
    private readonly settings: PipelineSettings,
    private readonly views: PipelineView[],
    private readonly trigger: Trigger | undefined,
    private readonly tracker: PartTracker,
    private readonly log: Logger,
  ) {
    this.matchers = views.map((v) => new FrameMatcher(settings.frameToleranceMs, () => v.camera.stats().connected));
  }

  /** The classes every view's model knows. */
  get labels(): string[] {
    const [first, ...rest] = this.views.map((v) => v.model().labels);
    return first!.filter((c) => rest.every((r) => r.includes(c)));
  }

  /** The decide settings in force (the line's: every view is judged by the same). */
  get decideSettings(): DecideSettings {
    return this.views[0]!.model().settings;
  }

  async start(): Promise<void> {
    this.accepting = true;
    if (this.settings.mode !== "triggered") {
      await Promise.all(this.views.map((v, i) => v.camera.start((f) => this.onFrame(i, f))));
      return;
    }
    // Triggers are taken once every camera delivers: a part triggered while a
    // camera is still opening would fail safe for nothing but start-up order.
    const firstFrames = new Promise<boolean>((resolve) => {
      this.firstFrames = { waiting: new Set(this.views.map((_, i) => i)), resolve: () => resolve(true) };
      setTimeout(() => resolve(false), this.settings.firstFrameTimeoutMs).unref();
    });
    await Promise.all(this.views.map((v, i) => v.camera.start((f) => this.onFrame(i, f))));
    if (!(await firstFrames)) {
      const silent = this.views.filter((_, i) => this.firstFrames?.waiting.has(i)).map((v) => v.name);
      const which = this.views.length > 1 ? ` of view ${silent.join(", ")}` : "";
      this.log.warn(`no frame from the camera${which} within ${this.settings.firstFrameTimeoutMs} ms: taking triggers anyway, their parts fail safe until it delivers`);
    }
    this.firstFrames = undefined;
    await this.trigger!.start((e) => this.onTrigger(e));
  }

  /** Stops taking new parts; parts in flight go on to their verdicts. */
  async stopIntake(): Promise<void> {
    this.accepting = false;
    if (this.trigger) await this.trigger.stop();
    await Promise.all(this.views.map((v) => v.camera.stop()));
    for (const m of this.matchers) m.cancelAll();
  }

  onLimit(listener: () => void): void {
    this.limitListener = listener;
  }

  /**
   * Called with the frames of each part the engines have answered for (a
   * view's judgement is undefined when its engine failed), while the frames
   * are still in hand. Parts that had already failed safe are not reported.
   */
  onFrameJudged(listener: (part: Part, frames: JudgedFrame[], judgement: Judgement | undefined) => void): void {
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

  private onFrame(view: number, frame: CameraFrame): void {
    const first = this.firstFrames;
    if (first?.waiting.delete(view) && first.waiting.size === 0) first.resolve();
    if (this.settings.mode === "triggered" || view > 0) {
      this.matchers[view]!.offer(frame);
      return;
    }
    if (!this.accepting || this.paused) return;
    // Free-run: a frame becomes a part only if the line can judge it in time;
    // otherwise it is dropped and counted, before it is a part.
    if (!this.tracker.reachable(frame.tCaptureMs)) {
      this.tracker.counters.framesStale++;
      return;
    }
    if (this.views.some((v) => v.model().engine.pending() >= this.settings.engineQueue) || this.tracker.inFlight() >= this.settings.maxInFlight) {
      this.tracker.counters.framesDropped++;
      return;
    }
    const part = this.newPart({ tMs: frame.tCaptureMs });
    if (!part) return;
    part.stages.capture = 0;
    const own: HeldFrame = { frame, release: frame.retain() };
    const others = this.matchers.slice(1).map((m) => m.take(frame.tCaptureMs));
    void Promise.all(others).then((held) => this.judge(part, [own, ...held], "of the first view's frame"));
  }

  private onTrigger(ev: TriggerEvent): void {
    const part = this.newPart(ev);
    if (!part) return;
    if (this.tracker.inFlight() > this.settings.maxInFlight) {
      this.tracker.failSafe(part, "overload", `more than ${this.settings.maxInFlight} parts in flight`);
      return;
    }
    void Promise.all(this.matchers.map((m) => m.take(ev.tMs))).then((held) => {
      if (held.some((h) => h !== undefined)) part.stages.capture = Math.max(0, nowMs() - part.tTriggerMs);
      return this.judge(part, held, "of the trigger");
    });
  }

  /** Judges `part` on each view's frame, which the caller retained: let go here once judged. */
  private async judge(part: Part, held: Array<HeldFrame | undefined>, nearWhat: string): Promise<void> {
    const primary = held[0]?.frame;
    if (primary) part.frameSeq = primary.seq;
    // Views see different faces of the part: it is defective if any of them shows a defect.
    const truths = held.flatMap((h) => (h?.frame.truth ? [h.frame.truth] : []));
    const truth = truths.find((t) => t.defect !== null) ?? truths[0];
    if (truth) part.truth = truth;
    const answered: JudgedFrame[] = [];
    try {
      const outcomes = await Promise.all(
        this.views.map((v, i): Promise<ViewOutcome> | ViewOutcome => {
          const h = held[i];
          if (!h) return { view: v.name, failsafe: "no-frame", detail: `no frame within ${this.settings.frameToleranceMs} ms ${nearWhat}` };
          return this.judgeView(part, v, h.frame, answered);
        }),
      );
      const verdict = worstView(outcomes);
      if (!part.judgement && answered.length > 0) this.judgedListener?.(part, answered, "judgement" in verdict ? verdict.judgement : undefined);
      if ("judgement" in verdict) this.tracker.judge(part, verdict.judgement);
      else this.tracker.failSafe(part, verdict.failsafe, verdict.detail, verdict.views);
    } finally {
      for (const h of held) h?.release();
    }
  }

  private async judgeView(part: Part, view: PipelineView, frame: Frame, answered: JudgedFrame[]): Promise<ViewOutcome> {
    // The model may be swapped while this part is inferred: it is decided
    // with the labels and thresholds of the model that judged it.
    const { engine, labels, settings } = view.model();
    const several = this.views.length > 1;
    try {
      const r = await engine.infer(frame);
      // Views are inferred side by side: the part took as long as its slowest.
      part.stages.preprocess = Math.max(part.stages.preprocess ?? 0, r.preprocessMs);
      part.stages.infer = Math.max(part.stages.infer ?? 0, r.inferMs);
      const t = nowMs();
      const judgement = { ...decide(r.output, labels, settings), modelVersion: r.modelVersion };
      part.stages.decide = Math.max(part.stages.decide ?? 0, nowMs() - t);
      answered.push({ view: view.name, frame, judgement });
      return { view: view.name, frameSeq: frame.seq, judgement };
    } catch (err) {
      const code = errorCode(err);
      const reason = code === "E_ENGINE_OVERLOAD" ? "overload" : "error";
      // With several views the part may still be rejected by another: this view has no verdict, the part's is the worst view's.
      const what = several ? `part ${part.id}: view ${view.name} has no verdict (${reason})` : `part ${part.id} fails safe: ${reason}`;
      this.log.warn({ part: part.id, code, err: errorMessage(err), ...(several && { view: view.name }) }, what);
      if (reason === "error") answered.push({ view: view.name, frame, judgement: undefined });
      return { view: view.name, frameSeq: frame.seq, failsafe: reason, detail: `${code}: ${errorMessage(err)}` };
    }
  }
}
