import { nowMs } from "../util/clock.js";
import { EdgeError } from "../util/errors.js";
import type { CommandName } from "./command-names.js";

export interface Rate {
  per_s: number;
  burst: number;
}

/**
 * Built-in per-command rates. The expensive ones are slow on purpose: a test
 * pulse occupies the ejector, a reload parses a file on the event loop, a swap
 * loads a model, a snapshot encodes a frame; none of them may crowd out parts.
 */
export const DEFAULT_RATES: Record<CommandName, Rate> = {
  pause: { per_s: 5, burst: 10 },
  resume: { per_s: 5, burst: 10 },
  "set-threshold": { per_s: 5, burst: 10 },
  "test-reject": { per_s: 1, burst: 1 },
  snapshot: { per_s: 1, burst: 1 },
  "reload-config": { per_s: 0.2, burst: 1 },
  "swap-model": { per_s: 0.1, burst: 1 },
};

/** Commands that hold a resource while they run: one at a time each, no queue. */
const EXCLUSIVE: ReadonlySet<CommandName> = new Set(["test-reject", "snapshot", "reload-config", "swap-model"]);

export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly rate: Rate,
    private readonly now: () => number = nowMs,
  ) {
    this.tokens = rate.burst;
    this.last = now();
  }

  take(): boolean {
    const t = this.now();
    this.tokens = Math.min(this.rate.burst, this.tokens + ((t - this.last) / 1000) * this.rate.per_s);
    this.last = t;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

/**
 * Admission for commands: an overall rate (checked before anything is
 * parsed), then a rate per command and, for the exclusive ones, nothing
 * queued behind the one running. Beyond any of them a command is refused,
 * never queued: the queue is the one running command.
 */
export class CommandLimits {
  private readonly overall: TokenBucket;
  private readonly perCommand: Map<CommandName, TokenBucket>;
  private readonly running = new Set<CommandName>();

  constructor(overall: Rate, rates: Partial<Record<CommandName, Rate>>, now: () => number = nowMs) {
    this.overall = new TokenBucket(overall, now);
    this.perCommand = new Map(Object.entries({ ...DEFAULT_RATES, ...rates }).map(([name, r]) => [name as CommandName, new TokenBucket(r, now)]));
  }

  /** Throws E_CMD_RATE when commands arrive faster than the overall rate. */
  admit(): void {
    if (!this.overall.take()) throw new EdgeError("E_CMD_RATE", "too many commands: over the station's overall command rate");
  }

  /**
   * Throws E_CMD_RATE or E_CMD_BUSY; otherwise the command may run and
   * `done` must be called once it has finished.
   */
  acquire(name: CommandName): () => void {
    if (EXCLUSIVE.has(name) && this.running.has(name)) throw new EdgeError("E_CMD_BUSY", `${name} is already running: one at a time`);
    if (!this.perCommand.get(name)!.take()) throw new EdgeError("E_CMD_RATE", `too many ${name} commands: over its rate`);
    if (!EXCLUSIVE.has(name)) return () => undefined;
    this.running.add(name);
    return () => this.running.delete(name);
  }
}
