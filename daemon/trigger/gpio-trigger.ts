import type { InputLine } from "../actuation/gpio.js";
import type { Encoder } from "./encoder.js";
import type { Trigger, TriggerEvent } from "./trigger.js";

/**
 * A photo-eye on a GPIO input. The edge's own time is the part's time;
 * debouncing is a lockout after each accepted edge (a bouncing or flickering
 * beam must not make two parts, and a stable-for-N-ms filter would delay the
 * timestamp). The edge choice (rising = beam becomes active) is the line's.
 */
export class GpioTrigger implements Trigger {
  readonly kind = "gpio";
  private running = false;
  private lastMs = -Infinity;
  private watching = false;
  private sink: (event: TriggerEvent) => void = () => undefined;

  constructor(
    private readonly line: InputLine,
    private readonly debounceMs: number,
    private readonly encoder?: Encoder,
  ) {}

  async start(sink: (event: TriggerEvent) => void): Promise<void> {
    this.sink = sink;
    this.running = true;
    if (this.watching) return;
    this.watching = true;
    this.line.watch((e) => {
      if (!this.running || e.tMs - this.lastMs < this.debounceMs) return;
      this.lastMs = e.tMs;
      const ev: TriggerEvent = { tMs: e.tMs };
      if (this.encoder) ev.encoder = this.encoder.count();
      this.sink(ev);
    });
  }

  async stop(): Promise<void> {
    this.running = false;
  }
}
