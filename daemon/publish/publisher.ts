import type { OutboxMessage } from "../records/store.js";

/** A message the station publishes; correlationData answers an MQTT 5 request. */
export interface OutgoingMessage extends OutboxMessage {
  correlationData?: Buffer;
}

/** A message that arrived on a subscribed topic. */
export interface IncomingMessage {
  topic: string;
  payload: Buffer;
  /** MQTT 5 request/response: where the requester wants the reply. */
  responseTopic?: string;
  correlationData?: Buffer;
  /** MQTT 5 user properties, as sent: a name given more than once has all its values. */
  userProperties: Record<string, string | string[]>;
  /** MQTT 5 content type. */
  contentType?: string;
  /** A retained message (on subscribing, or as published where the broker keeps that flag). */
  retain: boolean;
}

/** A publish the broker refused, or a disconnect it gave a reason for. */
export interface PublishProblem {
  code: string;
  message: string;
}

/**
 * Refused for good: resending the same message can only be refused again
 * (E_PUBLISH_REFUSED), unlike a lost link (E_PUBLISH_LINK, E_PUBLISH_OFFLINE).
 */
export const PUBLISH_REFUSED = "E_PUBLISH_REFUSED";

/** A connection to the plant's message broker. */
export interface Publisher {
  readonly kind: string;
  /** Starts connecting; resolves without waiting for the broker (the line runs without one). */
  connect(): Promise<void>;
  connected(): boolean;
  /** Resolves when the broker has acknowledged the message (PUBACK for QoS 1); rejects when offline. */
  publish(message: OutgoingMessage): Promise<void>;
  /** Subscribes now and after every reconnection. */
  subscribe(filter: string, handler: (message: IncomingMessage) => void): Promise<void>;
  /** Called on every (re)connection, so the drainer resumes. */
  onConnect(listener: () => void): void;
  /** Called when the broker refuses a publish or drops the connection for a reason it gives: for the alarms. */
  onProblem(listener: (problem: PublishProblem) => void): void;
  /** Within about `withinMs` whatever the broker does; what was not acknowledged stays unacknowledged. */
  close(withinMs?: number): Promise<void>;
}

/** MQTT topic filter matching with `+` (one level) and `#` (the rest). */
export function topicMatches(filter: string, topic: string): boolean {
  const f = filter.split("/");
  const t = topic.split("/");
  for (let i = 0; i < f.length; i++) {
    if (f[i] === "#") return true;
    if (i >= t.length) return false;
    if (f[i] !== "+" && f[i] !== t[i]) return false;
  }
  return f.length === t.length;
}
