import type { Frame } from "../capture/camera.js";
import type { Judgement } from "../pipeline/part.js";
import { encodeSnapshot } from "../vision/snapshot.js";
import { ANOMALY_CLASS } from "../inference/engine.js";

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

  /** `judgement` is undefined when the engine failed on this frame. */
  consider(partId: number, frame: Frame, judgement: Judgement | undefined): void {
    const passed = judgement?.verdict === "pass";
    const requested = this.wanted;
    this.wanted = [];
    if (requested.length === 0 && (passed ? this.random() >= this.settings.acceptedSample : !this.settings.rejected)) return;
    const boxes = (passed ? [] : (judgement?.findings ?? []))
      .filter((f) => f.box)
      // The anomaly box in magenta: the heat map runs from blue to red.
      .map((f) => ({ box: f.box!, label: `${f.class} ${f.score.toFixed(2)}`, ...(f.class === ANOMALY_CLASS ? { color: ANOMALY_BOX } : {}) }));
    const heatmap = passed ? undefined : judgement?.heatmap;
    const jpeg = encodeSnapshot(frame, { quality: this.settings.quality, boxes, ...(heatmap ? { heatmap } : {}) }).catch((err: unknown) => {
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
