import type { OutboxMessage } from "../records/store.js";

/** A connection to the plant's message broker. */
export interface Publisher {
  readonly kind: string;
  connect(): Promise<void>;
  connected(): boolean;
  /** Resolves when the broker has acknowledged the message (PUBACK for QoS 1). */
  publish(message: OutboxMessage): Promise<void>;
  /** Called on every (re)connection, so the drainer resumes. */
  onConnect(listener: () => void): void;
  close(): Promise<void>;
}
