import { EdgeError } from "../util/errors.js";
import { topicMatches, type IncomingMessage, type OutgoingMessage, type Publisher, type PublishProblem } from "./publisher.js";

/** Messages the twin keeps: enough to look at, bounded for a line without a broker that runs for days. */
const KEEP = 1000;

/**
 * The broker's in-memory twin, for tests and for a station configured without
 * a broker (the demo has a real one, publish.embedded_broker): acknowledges
 * what it receives and keeps the last KEEP (to 2 KEEP) messages, and can be
 * taken offline to exercise the outbox.
 */
export class MemoryPublisher implements Publisher {
  readonly kind = "memory";
  readonly received: OutgoingMessage[] = [];
  /** Messages acknowledged since start, including those no longer kept. */
  published = 0;
  private online = false;
  private readonly listeners: Array<() => void> = [];
  private readonly subscriptions: Array<{ filter: string; handler: (m: IncomingMessage) => void }> = [];

  async connect(): Promise<void> {
    this.setOnline(true);
  }

  connected(): boolean {
    return this.online;
  }

  setOnline(online: boolean): void {
    this.online = online;
    if (online) for (const l of this.listeners) l();
  }

  async publish(message: OutgoingMessage): Promise<void> {
    if (!this.online) throw new EdgeError("E_PUBLISH_OFFLINE", "broker not connected");
    this.published++;
    this.received.push(message);
    // Trimmed in halves, so that a message costs no copy of the rest.
    if (this.received.length >= 2 * KEEP) this.received.splice(0, KEEP);
  }

  async subscribe(filter: string, handler: (message: IncomingMessage) => void): Promise<void> {
    this.subscriptions.push({ filter, handler });
  }

  /** Delivers a message as if it came from the broker. */
  deliver(message: IncomingMessage): void {
    for (const s of this.subscriptions) if (topicMatches(s.filter, message.topic)) s.handler(message);
  }

  onConnect(listener: () => void): void {
    this.listeners.push(listener);
  }

  /** The twin refuses nothing. */
  onProblem(_listener: (problem: PublishProblem) => void): void {}

  async close(): Promise<void> {
    this.online = false;
  }
}
