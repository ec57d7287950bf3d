import { EdgeError } from "../../util/errors.js";
import type { Logger } from "../../util/log.js";
import type { Commands, CommandReply } from "../commands.js";
import type { DeviceCommand } from "./edge-node.js";
import { DEFAULT_THRESHOLD_METRIC, FROM_METRIC, PAUSED_METRIC, THRESHOLD_PREFIX } from "./station-metrics.js";

/** A DCMD metric as the JSON command it stands for. */
interface Write {
  name: string;
  args: Record<string, unknown>;
}

/**
 * DCMD writes as the station's commands, through the same checks, limits and
 * counters as `cmd/<name>` (size, rate, retained, READY, schema, identity),
 * on the line the device is: `Control/Paused` is pause or resume, `Thresholds/Default` and
 * `Thresholds/<class>` are set-threshold. The sender is the MQTT 5 user
 * property `from`, or the DCMD's `Command/From` metric, or `identity` (for
 * hosts that can set neither); it must be in the allow-list like any other.
 * Each write is one command; a changed value shows in the next DDATA, sent
 * at once.
 */
export class DeviceCommands {
  constructor(
    private readonly commands: Commands,
    private readonly maxPayloadBytes: number,
    private readonly identity: string | undefined,
    private readonly changed: () => void,
    private readonly log: Logger,
  ) {}

  async handle(c: DeviceCommand): Promise<void> {
    // Refused whole, as a JSON command is, before anything in it is read: one refusal, whatever it holds.
    const refusal = c.bytes > this.maxPayloadBytes ? new EdgeError("E_CMD_TOO_LARGE", `DCMD of ${c.bytes} bytes exceeds ${this.maxPayloadBytes}`) : c.malformed;
    if (refusal) {
      this.commands.countRefusal(refusal.code);
      this.log.warn({ code: refusal.code, device: c.device }, `DCMD refused: ${refusal.message}`);
      return;
    }
    const named = c.metrics.map((m) => ({ ...m, name: m.name ?? (m.alias !== undefined ? c.nameOf(m.alias) : undefined) }));
    const fromMetric = named.find((m) => m.name === FROM_METRIC)?.value;
    const from = typeof fromMetric === "string" ? fromMetric : c.userProperties.from === undefined ? this.identity : undefined;
    const writes = named.filter((m) => m.name !== FROM_METRIC).map((m) => toWrite(m.name, m.value));
    let anyOk = false;
    const answer = async (r: CommandReply) => {
      anyOk ||= r.ok;
    };
    for (const w of writes) {
      // A device is a line: the command acts on the line the DCMD was addressed to.
      const payload = Buffer.from(JSON.stringify({ ...w.args, line: c.device, ...(from !== undefined && { from }) }));
      await this.commands.handle(
        { topic: this.commands.commandTopic(w.name), payload, retain: c.retain, userProperties: c.userProperties },
        answer,
      );
    }
    if (anyOk) this.changed();
  }
}

function toWrite(name: string | undefined, value: unknown): Write {
  if (name === PAUSED_METRIC) {
    // Anything but a boolean is the schema's to refuse.
    if (value === true) return { name: "pause", args: {} };
    if (value === false) return { name: "resume", args: {} };
    return { name: "pause", args: { paused: value } };
  }
  if (name === DEFAULT_THRESHOLD_METRIC) return { name: "set-threshold", args: { threshold: value } };
  if (name?.startsWith(THRESHOLD_PREFIX)) return { name: "set-threshold", args: { class: name.slice(THRESHOLD_PREFIX.length), threshold: value } };
  // Not a writable metric: refused as an unknown command, and counted.
  return { name: `dcmd:${(name ?? "unnamed").slice(0, 64)}`, args: {} };
}
