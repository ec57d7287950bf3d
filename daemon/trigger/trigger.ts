export interface TriggerEvent {
  /** Edge time on the process clock (util/clock nowMs). */
  tMs: number;
  /** Encoder count at the edge, where an encoder is wired. */
  encoder?: number;
}

/** A part-presence input (photo-eye) that announces each part on the belt. */
export interface Trigger {
  readonly kind: string;
  start(sink: (event: TriggerEvent) => void): Promise<void>;
  stop(): Promise<void>;
}
