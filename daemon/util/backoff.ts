export interface BackoffSettings {
  initialMs: number;
  maxMs: number;
  /** 0..1: each delay is scaled by a random factor in [1 - jitter, 1 + jitter]. */
  jitter: number;
}

/**
 * Exponential backoff with jitter for reopening a lost source: 1x, 2x, 4x...
 * the initial delay up to the maximum, varied so that several stations losing
 * the same network camera do not hammer it in step.
 */
export class Backoff {
  private attempt = 0;

  constructor(
    private readonly s: BackoffSettings,
    private readonly random: () => number = Math.random,
  ) {}

  next(): number {
    const base = Math.min(this.s.maxMs, this.s.initialMs * 2 ** Math.min(this.attempt, 30));
    this.attempt++;
    return Math.round(base * (1 + this.s.jitter * (this.random() * 2 - 1)));
  }

  /** The source is delivering again: the next loss starts from the initial delay. */
  reset(): void {
    this.attempt = 0;
  }
}
