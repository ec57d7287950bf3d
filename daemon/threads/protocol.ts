/**
 * What a thread and its host say to each other. Each thread declares its own
 * ThreadSpec once; both sides are typed from it. Every message is tagged by
 * `type`, the thread's own messages included.
 */
export interface ThreadSpec {
  /** What the thread hands over with its ready handshake. */
  ready: unknown;
  /** Messages the thread posts unasked, tagged by `type`. */
  events: { type: string };
  /** Requests by name: what each takes and what it answers. */
  requests: Record<string, { in: unknown; out: unknown }>;
  /** Messages to the thread that expect no answer, tagged by `type`. */
  notes: { type: string };
}

export type RequestName<S extends ThreadSpec> = keyof S["requests"] & string;

/** Host → thread. */
export type HostMessage<S extends ThreadSpec> =
  | { type: "note"; body: S["notes"] }
  | { type: "request"; id: number; name: RequestName<S>; body: unknown }
  | { type: "stop" };

/** Thread → host. */
export type ThreadMessage<S extends ThreadSpec> =
  | { type: "ready"; info: S["ready"]; tid?: number }
  | { type: "start-failed"; code: string; message: string }
  | { type: "event"; body: S["events"] }
  | { type: "reply"; id: number; value: unknown }
  | { type: "reply-failed"; id: number; code: string; message: string };
