import type { SdNotify } from "./sd-notify.js";

/**
 * Pings the systemd watchdog only while every line makes progress: a line
 * with parts in flight must settle some between two pings, or the pings stop
 * and systemd restarts the daemon. An idle line (no parts) is healthy; a
 * busy line does not cover for a stuck one.
 */
export class Watchdog {
  private timer: NodeJS.Timeout | undefined;
  private lastSettled: number[] = [];
  stalled = false;

  constructor(
    private readonly notify: SdNotify,
    private readonly intervalMs: number,
    /** Each line's parts settled so far and in flight now. */
    private readonly progress: () => Array<{ settled: number; inFlight: number }>,
  ) {}

  /** WATCHDOG_USEC from systemd: ping at half the period. */
  static intervalFromEnv(env: NodeJS.ProcessEnv): number | undefined {
    const usec = Number(env.WATCHDOG_USEC);
    if (!Number.isFinite(usec) || usec <= 0) return undefined;
    if (env.WATCHDOG_PID && Number(env.WATCHDOG_PID) !== process.pid) return undefined;
    return Math.max(1, Math.floor(usec / 2000));
  }

  start(): void {
    this.timer = setInterval(() => this.tick(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  private tick(): void {
    const lines = this.progress();
    this.stalled = lines.some((l, i) => l.inFlight > 0 && l.settled === (this.lastSettled[i] ?? -1));
    this.lastSettled = lines.map((l) => l.settled);
    if (!this.stalled) this.notify.watchdog();
  }
}
