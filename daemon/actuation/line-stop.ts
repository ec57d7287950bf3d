import type { InputLine, OutputLine } from "./gpio.js";
import type { Alarms } from "./alarms.js";

/**
 * The line-stop output and why it is on. A full reject bin holds it until
 * that bin is clear; an escaped part (with `on_escape: line-stop`) holds it
 * until someone at the line presses the reset input (or the daemon
 * restarts): a bad part is somewhere downstream, and a person has to find it
 * before the belt moves on.
 */
export class LineStop {
  private readonly reasons = new Set<string>();

  constructor(
    private readonly output: OutputLine | undefined,
    private readonly alarms: Alarms,
  ) {}

  get wired(): boolean {
    return this.output !== undefined;
  }

  isStopped(): boolean {
    return this.reasons.size > 0;
  }

  hold(reason: string): void {
    this.reasons.add(reason);
    this.output?.set(true);
  }

  release(reason: string): void {
    this.reasons.delete(reason);
    this.output?.set(this.reasons.size > 0);
  }

  /** Latches a stop for an escaped part until the reset input goes active. */
  escaped(part: number): void {
    if (!this.output) return;
    const first = !this.reasons.has("escape");
    this.hold("escape");
    if (first) this.alarms.raise("line-stopped", `line stopped: part ${part} escaped the reject station; remove it downstream, then press the line-stop reset`, { part });
  }

  watchReset(input: InputLine): void {
    input.watch((e) => {
      if (!e.active || !this.reasons.has("escape")) return;
      this.release("escape");
      this.alarms.raise("line-released", `line-stop reset pressed${this.reasons.size > 0 ? `; still stopped: ${[...this.reasons].join(", ")}` : ": line released"}`);
    });
  }
}
