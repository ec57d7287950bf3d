import { z } from "zod";
import { EdgeError, errorCode, errorMessage } from "../util/errors.js";
import type { Logger } from "../util/log.js";
import type { IncomingMessage, Publisher } from "./publisher.js";
import { topic, type StationId } from "./topics.js";

/**
 * What the station lets the network do. Deliberately small: nothing here can
 * turn off fail-safe rejection, shorten a pulse or stop the reject output.
 */
export interface CommandTarget {
  pause(): void;
  resume(): void;
  /** Defect classes a threshold may be set for. */
  defectClasses(): string[];
  /** `cls` undefined: the default threshold. Returns the thresholds now in force. */
  setThreshold(cls: string | undefined, value: number): { threshold: number; thresholds: Record<string, number> };
  /** One reject pulse now; resolves with its wall-clock start. */
  testReject(): Promise<string>;
  /** Saves the next frame as a snapshot; resolves with its path. */
  snapshot(): Promise<string>;
  reloadConfig(): Promise<unknown>;
  swapModel(modelPackage: string): Promise<unknown>;
}

export interface CommandSettings {
  station: StationId;
  /** Identities (MQTT 5 user property `from`, or the payload's `from`) allowed to command. Empty: none. */
  allow: string[];
  maxPayloadBytes: number;
}

const from = z.string().min(1).max(128);
const base = { from: from.optional(), request_id: z.string().max(128).optional() };
const empty = z.object(base).strict();

const SCHEMAS = {
  pause: empty,
  resume: empty,
  "set-threshold": z.object({ ...base, class: z.string().min(1).max(64).optional(), threshold: z.number().min(0).max(1) }).strict(),
  "test-reject": empty,
  snapshot: empty,
  "reload-config": empty,
  "swap-model": z.object({ ...base, package: z.string().min(1).max(512) }).strict(),
} as const;

export type CommandName = keyof typeof SCHEMAS;
export const COMMAND_NAMES = Object.keys(SCHEMAS) as CommandName[];

export interface CommandStats {
  accepted: number;
  refused: number;
  refusedByCode: Record<string, number>;
}

/**
 * Commands on `cmd/<name>`, each answered on the MQTT 5 response topic (with
 * its correlation data) or on `cmd/<name>/reply`. Checks run cheapest first:
 * size, name, JSON, schema, identity; anything refused changes nothing and
 * is counted by code.
 */
export class Commands {
  readonly counts: CommandStats = { accepted: 0, refused: 0, refusedByCode: {} };
  private readonly prefix: string;

  constructor(
    private readonly settings: CommandSettings,
    private readonly target: CommandTarget,
    private readonly publisher: Publisher,
    private readonly log: Logger,
  ) {
    this.prefix = topic(settings.station, "cmd/");
  }

  async start(): Promise<void> {
    await this.publisher.subscribe(`${this.prefix}+`, (m) => void this.handle(m));
  }

  async handle(m: IncomingMessage): Promise<void> {
    const name = m.topic.slice(this.prefix.length);
    let requestId: string | undefined;
    try {
      const args = this.check(name, m);
      requestId = args.request_id;
      const result = await this.run(name as CommandName, args);
      this.counts.accepted++;
      this.log.info({ command: name, from: args.from }, `command ${name} done`);
      await this.reply(m, name, { ok: true, command: name, request_id: requestId, result });
    } catch (err) {
      const code = errorCode(err);
      this.counts.refused++;
      this.counts.refusedByCode[code] = (this.counts.refusedByCode[code] ?? 0) + 1;
      this.log.warn({ command: name, code }, `command ${name} refused: ${errorMessage(err)}`);
      await this.reply(m, name, { ok: false, command: name, request_id: requestId, error: { code, message: errorMessage(err) } });
    }
  }

  private check(name: string, m: IncomingMessage): z.infer<typeof empty> & Record<string, unknown> {
    if (m.payload.byteLength > this.settings.maxPayloadBytes) {
      throw new EdgeError("E_CMD_TOO_LARGE", `payload of ${m.payload.byteLength} bytes exceeds ${this.settings.maxPayloadBytes}`);
    }
    if (!Object.hasOwn(SCHEMAS, name)) throw new EdgeError("E_CMD_UNKNOWN", `unknown command '${name}' (known: ${COMMAND_NAMES.join(", ")})`);
    let json: unknown;
    try {
      json = m.payload.byteLength === 0 ? {} : JSON.parse(m.payload.toString("utf8"));
    } catch {
      throw new EdgeError("E_CMD_MALFORMED", "payload is not JSON");
    }
    const parsed = SCHEMAS[name as CommandName].safeParse(json);
    if (!parsed.success) {
      const i = parsed.error.issues[0]!;
      throw new EdgeError("E_CMD_INVALID", `${i.path.join(".") || "payload"}: ${i.message}`);
    }
    const args = parsed.data as z.infer<typeof empty> & Record<string, unknown>;
    const who = m.userProperties.from ?? args.from;
    if (!who || !this.settings.allow.includes(who)) {
      throw new EdgeError("E_CMD_UNAUTHORISED", who ? `'${who}' is not allowed to send commands` : "no identity ('from') given");
    }
    return args;
  }

  private async run(name: CommandName, args: Record<string, unknown>): Promise<unknown> {
    const t = this.target;
    switch (name) {
      case "pause":
        t.pause();
        return { paused: true };
      case "resume":
        t.resume();
        return { paused: false };
      case "set-threshold": {
        const cls = args.class as string | undefined;
        if (cls !== undefined && !t.defectClasses().includes(cls)) {
          throw new EdgeError("E_CMD_INVALID", `class: '${cls}' is not a defect class (${t.defectClasses().join(", ")})`);
        }
        return t.setThreshold(cls, args.threshold as number);
      }
      case "test-reject":
        return { pulsed_at: await t.testReject() };
      case "snapshot":
        return { path: await t.snapshot() };
      case "reload-config":
        return t.reloadConfig();
      case "swap-model":
        return t.swapModel(args.package as string);
    }
  }

  private async reply(m: IncomingMessage, name: string, body: unknown): Promise<void> {
    // A response topic inside the station's own tree could overwrite its status: only replies go there.
    const own = topic(this.settings.station, "");
    const asked = m.responseTopic && (!m.responseTopic.startsWith(own) || m.responseTopic.endsWith("/reply")) ? m.responseTopic : undefined;
    const to = asked ?? `${this.prefix}${Object.hasOwn(SCHEMAS, name) ? name : "unknown"}/reply`;
    await this.publisher
      .publish({ id: "", topic: to, payload: JSON.stringify(body), qos: 1, correlationData: m.correlationData })
      .catch((err: unknown) => this.log.debug({ err }, "command reply not delivered"));
  }
}
