import type { SdNotify } from "./sd-notify.js";

/**
 * Pings the systemd watchdog only while the pipeline makes progress: a line
 * with parts in flight must settle some between two pings, or the pings stop
 * and systemd restarts the daemon. An idle line (no parts) is healthy.
 */
export class Watchdog {
  private timer: NodeJS.Timeout | undefined;
  private lastSettled = -1;
  stalled = false;

  constructor(
    private readonly notify: SdNotify,
    private readonly intervalMs: number,
    private readonly progress: () => { settled: number; inFlight: number },
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
    const { settled, inFlight } = this.progress();
    this.stalled = inFlight > 0 && settled === this.lastSettled;
    this.lastSettled = settled;
    if (!this.stalled) this.notify.watchdog();
  }
}
