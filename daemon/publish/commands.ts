import { z } from "zod";
import { EdgeError, errorCode, errorMessage } from "../util/errors.js";
import type { Logger } from "../util/log.js";
import { COMMAND_NAMES, isCommandName, type CommandName } from "./command-names.js";
import { parseCommandJson } from "./command-json.js";
import { CommandLimits, TokenBucket, type Rate } from "./command-limits.js";
import type { IncomingMessage, Publisher } from "./publisher.js";
import { replyTopicProblem } from "./reply-topic.js";
import { topic, type StationId } from "./topics.js";

export { COMMAND_NAMES, type CommandName };

/**
 * What the station lets the network do. Deliberately small: nothing here can
 * turn off fail-safe rejection, shorten a pulse or stop the reject output.
 */
export interface CommandTarget {
  /** Why no command may act now (starting, model not loaded, stopping); undefined once READY. */
  notReady(): string | undefined;
  // `line`: the line a command names (its payload's `line`); undefined: every line, or the only one.
  pause(line?: string): void;
  resume(line?: string): void;
  /** Defect classes a threshold may be set for. */
  defectClasses(line?: string): string[];
  /**
   * `cls` undefined: the default threshold; `value` undefined: clear the override (the config's or the
   * package's value again). Kept across reloads, swaps and restarts. Returns the thresholds now in force.
   */
  setThreshold(cls: string | undefined, value: number | undefined, by: string, line?: string): { threshold: number; thresholds: Record<string, number> };
  /** One reject pulse now; resolves with its wall-clock start. */
  testReject(line?: string): Promise<string>;
  /** Saves the next frame as a snapshot; resolves with its path. */
  snapshot(line?: string): Promise<string>;
  reloadConfig(): Promise<unknown>;
  swapModel(modelPackage: string, line?: string): Promise<unknown>;
}

export interface CommandSettings {
  station: StationId;
  /** Identities (MQTT 5 user property `from`, or the payload's `from`) allowed to command. Empty: none. */
  allow: string[];
  maxPayloadBytes: number;
  /** Where a response topic may point besides the station's own `replies/` tree (each ends in '/'). */
  replyPrefixes: string[];
  /** All commands together. */
  rate: Rate;
  /** Per command, over the built-in defaults. */
  rates: Partial<Record<CommandName, Rate>>;
}

/** Correlation data is echoed in the reply: more than this is refused, not echoed. */
export const MAX_CORRELATION_BYTES = 256;
const MAX_IDENTITY = 128;

const from = z.string().min(1).max(MAX_IDENTITY);
const base = { from: from.optional(), request_id: z.string().max(128).optional(), line: z.string().min(1).max(64).optional() };
const empty = z.object(base).strict();

const SCHEMAS: Record<CommandName, z.ZodType<Record<string, unknown>>> = {
  pause: empty,
  resume: empty,
  "set-threshold": z
    .object({ ...base, class: z.string().min(1).max(64).optional(), threshold: z.number().min(0).max(1).optional(), clear: z.literal(true).optional() })
    .strict()
    .refine((a) => (a.threshold === undefined) !== (a.clear === undefined), { message: "give either threshold (0..1) or clear: true" }),
  "test-reject": empty,
  snapshot: empty,
  "reload-config": empty,
  "swap-model": z.object({ ...base, package: z.string().min(1).max(512) }).strict(),
};

type Args = z.infer<typeof empty> & Record<string, unknown>;

export interface CommandStats {
  accepted: number;
  refused: number;
  refusedByCode: Record<string, number>;
  /** Replies not sent: refusals beyond the reply rate during a flood, or a reply the broker did not take. */
  repliesDropped: number;
}

/** The reply to every command. */
export interface CommandReply {
  ok: boolean;
  command: string;
  request_id?: string;
  result?: unknown;
  error?: { code: string; message: string };
}

/** Where a reply goes, and why the request's own reply address was not taken. */
interface Route {
  topic: string;
  correlationData: Buffer | undefined;
  problem: EdgeError | undefined;
}

/**
 * Commands on `cmd/<name>`, each answered on the MQTT 5 response topic (with
 * its correlation data) or on `cmd/<name>/reply`. Checks run cheapest first:
 * size, overall rate, reply address, retained, READY, name, content type,
 * JSON (UTF-8, depth, duplicate keys), schema, identity, whether the
 * command is already running, and its own rate. Anything refused changes nothing
 * and is counted by code; its reply says why.
 */
export class Commands {
  readonly counts: CommandStats = { accepted: 0, refused: 0, refusedByCode: {}, repliesDropped: 0 };
  private readonly prefix: string;
  private readonly own: string;
  private readonly replyPrefixes: string[];
  private readonly limits: CommandLimits;
  /** Refusals for rate are answered at most at the overall rate: a flood gets no flood of replies. */
  private readonly rateReplies: TokenBucket;

  constructor(
    private readonly settings: CommandSettings,
    private readonly target: CommandTarget,
    private readonly publisher: Publisher,
    private readonly log: Logger,
  ) {
    this.prefix = topic(settings.station, "cmd/");
    this.own = topic(settings.station, "");
    this.replyPrefixes = [topic(settings.station, "replies/"), ...settings.replyPrefixes];
    this.limits = new CommandLimits(settings.rate, settings.rates);
    this.rateReplies = new TokenBucket(settings.rate);
  }

  async start(): Promise<void> {
    await this.publisher.subscribe(`${this.prefix}+`, (m) => {
      this.handle(m).catch((err: unknown) => this.log.error({ err }, "command handling failed"));
    });
  }

  /** The topic a command of this name arrives on (for commands that come another way, e.g. a Sparkplug DCMD). */
  commandTopic(name: string): string {
    return `${this.prefix}${name}`;
  }

  /**
   * One command through every check, limit and counter. `answer`, when
   * given, takes the reply instead of an MQTT reply topic (a Sparkplug DCMD
   * has none: its effect shows in the device's data).
   */
  async handle(m: IncomingMessage, answer?: (reply: CommandReply) => Promise<void>): Promise<void> {
    const name = m.topic.slice(this.prefix.length);
    const route = answer ? { topic: "", correlationData: undefined, problem: undefined } : this.route(m, name);
    const reply = answer ?? ((body: CommandReply) => this.reply(route, body));
    let requestId: string | undefined;
    let release: (() => void) | undefined;
    try {
      const args = this.check(name, m, route);
      requestId = args.request_id;
      release = this.limits.acquire(name as CommandName);
      const result = await this.run(name as CommandName, args);
      // Free before the reply goes out: a requester that sends the next one on reading it must not find it busy.
      release?.();
      release = undefined;
      this.counts.accepted++;
      this.log.info({ command: name, from: args.from }, `command ${name} done`);
      await reply({ ok: true, command: name, request_id: requestId, result });
    } catch (err) {
      release?.();
      release = undefined;
      const code = errorCode(err);
      this.countRefusal(code);
      if (code === "E_CMD_RATE" && !this.rateReplies.take()) {
        this.counts.repliesDropped++;
        return;
      }
      const shown = clip(name);
      this.log.warn({ command: shown, code }, `command ${shown} refused: ${errorMessage(err)}`);
      await reply({ ok: false, command: shown, request_id: requestId, error: { code, message: errorMessage(err) } });
    } finally {
      release?.();
    }
  }

  /** A command refused before it could be read as one (a Sparkplug DCMD that does not decode): counted like the rest. */
  countRefusal(code: string): void {
    this.counts.refused++;
    this.counts.refusedByCode[code] = (this.counts.refusedByCode[code] ?? 0) + 1;
  }

  /**
   * The requested response topic when it is a topic the broker will take and
   * inside the reply prefixes; otherwise the station's own `cmd/<name>/reply`,
   * so that a bad address is answered where the station may publish, never
   * where it would be disconnected or write into another tree.
   */
  private route(m: IncomingMessage, name: string): Route {
    const fallback = `${this.prefix}${isCommandName(name) ? name : "unknown"}/reply`;
    const cd = m.correlationData;
    if (cd && cd.byteLength > MAX_CORRELATION_BYTES) {
      return { topic: fallback, correlationData: undefined, problem: new EdgeError("E_CMD_CORRELATION", `correlation data of ${cd.byteLength} bytes exceeds ${MAX_CORRELATION_BYTES}`) };
    }
    if (m.responseTopic === undefined) return { topic: fallback, correlationData: cd, problem: undefined };
    const t = m.responseTopic;
    let problem = replyTopicProblem(t, this.replyPrefixes);
    // Inside the station's own tree only replies/ is for replies: status, defects and cmd/ are not.
    if (!problem && t.startsWith(this.own) && !t.startsWith(this.replyPrefixes[0]!)) problem = "response topic names the station's own non-reply topics";
    if (!problem && /^edge-inspect\/[^/]+\/[^/]+\/[^/]+\/cmd\/[^/]+$/.test(t)) problem = "response topic is a station's command topic";
    if (problem) return { topic: fallback, correlationData: cd, problem: new EdgeError("E_CMD_REPLY_TOPIC", `${problem}: the reply comes here instead`) };
    return { topic: t, correlationData: cd, problem: undefined };
  }

  private check(name: string, m: IncomingMessage, route: Route): Args {
    if (m.payload.byteLength > this.settings.maxPayloadBytes) {
      throw new EdgeError("E_CMD_TOO_LARGE", `payload of ${m.payload.byteLength} bytes exceeds ${this.settings.maxPayloadBytes}`);
    }
    this.limits.admit();
    if (route.problem) throw route.problem;
    // A retained command would act again on every start and reconnect.
    if (m.retain) throw new EdgeError("E_CMD_RETAINED", "retained commands are refused: publish commands without the retain flag (and clear this one with an empty retained message)");
    const notReady = this.target.notReady();
    if (notReady) throw new EdgeError("E_CMD_NOT_READY", `the station is not READY (${notReady}): nothing acts before READY`);
    if (!isCommandName(name)) throw new EdgeError("E_CMD_UNKNOWN", `unknown command '${clip(name)}' (known: ${COMMAND_NAMES.join(", ")})`);
    if (m.contentType !== undefined && !/^application\/json\s*(;.*)?$/i.test(m.contentType)) {
      throw new EdgeError("E_CMD_MALFORMED", `content type '${clip(m.contentType)}' is not application/json`);
    }
    const parsed = SCHEMAS[name].safeParse(parseCommandJson(m.payload));
    if (!parsed.success) {
      const i = parsed.error.issues[0]!;
      throw new EdgeError("E_CMD_INVALID", `${i.path.join(".") || "payload"}: ${i.message}`);
    }
    const args = parsed.data as Args;
    // Whichever carried it, the identity is the payload's from here on: it is logged, and kept with what it set.
    return { ...args, from: this.identify(m.userProperties.from, args.from) };
  }

  /** The sender must name one identity, the same in the user property and the payload, and be allowed. */
  private identify(property: string | string[] | undefined, payload: string | undefined): string {
    if (Array.isArray(property)) throw new EdgeError("E_CMD_UNAUTHORISED", "more than one 'from' user property");
    if (property !== undefined && payload !== undefined && property !== payload) {
      throw new EdgeError("E_CMD_UNAUTHORISED", "the 'from' user property and the payload's 'from' differ");
    }
    const who = property ?? payload;
    if (!who) throw new EdgeError("E_CMD_UNAUTHORISED", "no identity ('from') given");
    if (who.length > MAX_IDENTITY || !this.settings.allow.includes(who)) throw new EdgeError("E_CMD_UNAUTHORISED", `'${clip(who)}' is not allowed to send commands`);
    return who;
  }

  private async run(name: CommandName, args: Args): Promise<unknown> {
    const t = this.target;
    const line = args.line;
    switch (name) {
      case "pause":
        t.pause(line);
        return { paused: true };
      case "resume":
        t.resume(line);
        return { paused: false };
      case "set-threshold": {
        const cls = args.class as string | undefined;
        if (cls !== undefined && !t.defectClasses(line).includes(cls)) {
          throw new EdgeError("E_CMD_INVALID", `class: '${cls}' is not a defect class (${t.defectClasses(line).join(", ")})`);
        }
        return t.setThreshold(cls, args.threshold as number | undefined, args.from!, line);
      }
      case "test-reject":
        return { pulsed_at: await t.testReject(line) };
      case "snapshot":
        return { path: await t.snapshot(line) };
      case "reload-config":
        if (line !== undefined) throw new EdgeError("E_CMD_INVALID", "line: reload-config reloads the whole station");
        return t.reloadConfig();
      case "swap-model":
        return t.swapModel(args.package as string, line);
    }
  }

  private async reply(route: Route, body: CommandReply): Promise<void> {
    await this.publisher.publish({ id: "", topic: route.topic, payload: JSON.stringify(body), qos: 1, correlationData: route.correlationData }).catch((err: unknown) => {
      this.counts.repliesDropped++;
      this.log.debug({ err, topic: route.topic }, "command reply not delivered");
    });
  }
}

/** Names and identities from the network, shortened for replies and logs. */
function clip(s: string, max = 64): string {
  return s.length > max ? `${s.slice(0, max)}…` : s;
}
