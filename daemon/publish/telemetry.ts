import type { Logger } from "../util/log.js";
import type { Alarm } from "../util/alarm.js";
import type { Publisher } from "./publisher.js";
import { topic, type StationId } from "./topics.js";

/** The retained `status` payloads: `online` on every connect, `offline` as Last Will and on stop. */
export function statusPayload(state: "online" | "offline"): string {
  return JSON.stringify({ state, time: new Date().toISOString() });
}

/**
 * Alarms and periodic metrics, published directly (QoS 1, not through the
 * outbox): a metric is stale by the next interval, and an alarm about a full
 * disk must not wait for that disk.
 */
export class Telemetry {
  private timer: NodeJS.Timeout | undefined;
  alarmsPublished = 0;

  constructor(
    private readonly station: StationId,
    private readonly publisher: Publisher,
    private readonly metrics: () => Record<string, unknown>,
    private readonly intervalMs: number,
    private readonly log: Logger,
  ) {}

  start(): void {
    this.timer = setInterval(() => this.publishMetrics(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  alarm(a: Alarm): void {
    const payload = JSON.stringify({ code: a.code, message: a.message, active: a.active, time: new Date(a.timeMs).toISOString() });
    this.publisher.publish({ id: "", topic: topic(this.station, "alarms"), payload, qos: 1 }).then(
      () => this.alarmsPublished++,
      (err: unknown) => this.log.debug({ err, code: a.code }, "alarm not published (broker offline); it is in the alarms table"),
    );
  }

  publishMetrics(): void {
    if (!this.publisher.connected()) return;
    const payload = JSON.stringify({ time: new Date().toISOString(), ...this.metrics() });
    this.publisher.publish({ id: "", topic: topic(this.station, "metrics"), payload, qos: 0 }).catch(() => undefined);
  }
}
