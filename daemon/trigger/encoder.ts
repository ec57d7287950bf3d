import type { InputLine } from "../actuation/gpio.js";

/**
 * Counts belt-encoder pulses (active edges of one channel) into shared
 * memory, where the reject core reads it and is woken by each
 * count. Keeps a speed estimate for turning count deadlines into times.
 */
export class Encoder {
  readonly shared = new SharedArrayBuffer(4);
  private readonly cell = new Int32Array(this.shared);
  private readonly listeners: Array<(count: number) => void> = [];
  private lastEdgeMs: number | undefined;
  /** Counts per ms, smoothed over recent edges. */
  private speed = 0;

  constructor(private readonly line: InputLine) {}

  start(): void {
    this.line.watch((e) => {
      if (e.active) this.add(e.tMs);
    });
  }

  count(): number {
    return Atomics.load(this.cell, 0);
  }

  countsPerMs(): number {
    return this.speed;
  }

  onCount(listener: (count: number) => void): void {
    this.listeners.push(listener);
  }

  private add(tMs: number): void {
    const n = Atomics.add(this.cell, 0, 1) + 1;
    Atomics.notify(this.cell, 0);
    if (this.lastEdgeMs !== undefined && tMs > this.lastEdgeMs) this.speed = 0.8 * this.speed + 0.2 / (tMs - this.lastEdgeMs);
    this.lastEdgeMs = tMs;
    for (const l of this.listeners) l(n);
  }
}
