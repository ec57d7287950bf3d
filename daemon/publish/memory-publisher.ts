import { EdgeError } from "../util/errors.js";
import type { OutboxMessage } from "../records/store.js";
import type { Publisher } from "./publisher.js";

/**
 * The broker's in-memory twin: acknowledges what it receives and keeps it, and
 * can be taken offline to exercise the outbox.
 */
export class MemoryPublisher implements Publisher {
  readonly kind = "memory";
  readonly received: OutboxMessage[] = [];
  private online = false;
  private readonly listeners: Array<() => void> = [];

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

  async publish(message: OutboxMessage): Promise<void> {
    if (!this.online) throw new EdgeError("E_PUBLISH_OFFLINE", "broker not connected");
    this.received.push(message);
  }

  onConnect(listener: () => void): void {
    this.listeners.push(listener);
  }

  async close(): Promise<void> {
    this.online = false;
  }
}
