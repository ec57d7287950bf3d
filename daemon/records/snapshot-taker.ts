import type { Judgement } from "../pipeline/part.js";
import type { JudgedFrame } from "../pipeline/pipeline.js";
import { encodeSnapshot, encodeViewsSnapshot, type SnapshotBox } from "../vision/snapshot.js";
import { ANOMALY_CLASS } from "../inference/engine.js";

/** The anomaly box in magenta: the heat map runs from blue to red. */
const ANOMALY_BOX: [number, number, number] = [255, 0, 255];
import type { Logger } from "../util/log.js";

export interface SnapshotSettings {
  /** Keep a snapshot of every part the model did not pass (rejects, errors). */
  rejected: boolean;
  /** Share of passed parts kept as well (0..1), for review and retraining. */
  acceptedSample: number;
  quality: number;
}

/**
 * Chooses which judged frames become snapshots and encodes them (JPEG, boxes
 * drawn, an anomaly reject's heat map overlaid) on libuv's pool as soon as the verdict is known: only the small
 * JPEG is held until the part settles, never the frame itself.
 */
export class SnapshotTaker {
  private readonly pending = new Map<number, Promise<Buffer | undefined>>();
  /** Requests for the next judged frame whatever the policy (the snapshot command). */
  private wanted: Array<(partId: number) => void> = [];

  constructor(
    public settings: SnapshotSettings,
    private readonly log: Logger,
    private readonly random: () => number = Math.random,
  ) {}

  /**
   * `frames`: each view's frame the engine answered for; `judgement` is the
   * part's, undefined when it has none (an engine failed). A part seen by
   * several views gets one snapshot of them side by side.
   */
  consider(partId: number, frames: JudgedFrame[], judgement: Judgement | undefined, several: boolean): void {
    const passed = judgement?.verdict === "pass";
    const requested = this.wanted;
    this.wanted = [];
    if (requested.length === 0 && (passed ? this.random() >= this.settings.acceptedSample : !this.settings.rejected)) return;
    const boxes = (j: Judgement | undefined): SnapshotBox[] =>
      (passed ? [] : (j?.findings ?? []))
        .filter((f) => f.box)
        .map((f) => ({ box: f.box!, label: `${f.class} ${f.score.toFixed(2)}`, ...(f.class === ANOMALY_CLASS ? { color: ANOMALY_BOX } : {}) }));
    // Each frame's own boxes and anomaly map, under its own judgement (a view's, or the part's with one camera).
    const marks = (j: Judgement | undefined) => ({ boxes: boxes(j), ...(!passed && j?.heatmap && { heatmap: j.heatmap }) });
    const quality = this.settings.quality;
    const encoded = several
      ? encodeViewsSnapshot(frames.map((f) => ({ frame: f.frame, ...marks(f.judgement), caption: `${f.view}: ${f.judgement?.verdict ?? "no verdict"}` })), quality)
      : encodeSnapshot(frames[0]!.frame, { quality, ...marks(judgement) });
    const jpeg = encoded.catch((err: unknown) => {
      this.log.warn({ err, part: partId }, "snapshot could not be encoded");
      return undefined;
    });
    this.pending.set(partId, jpeg);
    for (const r of requested) r(partId);
  }

  /** Resolves with the part whose frame is kept next, or undefined if none comes within `timeoutMs`. */
  next(timeoutMs: number): Promise<number | undefined> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.wanted = this.wanted.filter((w) => w !== take);
        resolve(undefined);
      }, timeoutMs);
      const take = (partId: number) => {
        clearTimeout(timer);
        resolve(partId);
      };
      this.wanted.push(take);
    });
  }

  /** The part's snapshot, if one was taken; forgets it. */
  take(partId: number): Promise<Buffer | undefined> | undefined {
    const p = this.pending.get(partId);
    this.pending.delete(partId);
    return p;
  }
}
