import { nowMs } from "../util/clock.js";
import type { Gpio, OutputLine, OutputSpec } from "./gpio.js";

export interface Edge {
  line: string;
  /** Logical state: true = actuator energised. */
  active: boolean;
  /** Electrical level on the pin (after active-low). */
  level: 0 | 1;
  tMs: number;
}

/** A GPIO chip that records every edge with its high-resolution time. */
export class SimulatedGpio implements Gpio {
  readonly kind = "simulated";
  readonly edges: Edge[] = [];
  private readonly lines = new Map<string, { spec: OutputSpec; active: boolean }>();

  output(spec: OutputSpec): OutputLine {
    const state = { spec, active: false };
    this.lines.set(spec.name, state);
    this.record(spec, false);
    return {
      name: spec.name,
      set: (active: boolean) => {
        if (state.active === active) return;
        state.active = active;
        this.record(spec, active);
      },
    };
  }

  /** Logical state of a line now. */
  isActive(name: string): boolean {
    return this.lines.get(name)?.active ?? false;
  }

  safe(): void {
    for (const s of this.lines.values()) {
      if (s.active) {
        s.active = false;
        this.record(s.spec, false);
      }
    }
  }

  async close(): Promise<void> {
    this.safe();
  }

  private record(spec: OutputSpec, active: boolean): void {
    const level = (active !== spec.activeLow ? 1 : 0) as 0 | 1;
    this.edges.push({ line: spec.name, active, level, tMs: nowMs() });
  }
}
