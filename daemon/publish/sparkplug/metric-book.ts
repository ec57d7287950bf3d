import { DataType, type Metric } from "./codec.js";
import type { NodeSource, Reading } from "./readings.js";

/** Metrics per device ("" is the node itself). */
export interface Certificates {
  node: Metric[];
  devices: Array<{ id: string; metrics: Metric[] }>;
}

/**
 * The names and aliases of the current birth, and the value last sent for
 * each alias: what makes a DATA message carry only what changed, by alias,
 * and tells when the station's metrics are no longer those it was born
 * with (then only a new birth will do). Aliases are unique across the node.
 */
export class MetricBook {
  private aliases = new Map<string, Map<string, number>>();
  private sent = new Map<number, string>();

  /** Every reading with its name, alias, datatype and value; the book starts again from them. */
  birth(source: NodeSource, now: number): Certificates {
    const aliases = new Map<string, Map<string, number>>();
    let next = 1;
    const certify = (device: string, readings: Reading[]): Metric[] => {
      const names = new Map<string, number>();
      aliases.set(device, names);
      return readings.map((r) => {
        const alias = next++;
        names.set(r.name, alias);
        return { name: r.name, alias, timestamp: now, datatype: r.datatype, value: r.value };
      });
    };
    const node = certify("", source.readings());
    const devices = source.devices().map((d) => ({ id: d.id, metrics: certify(d.id, d.readings()) }));
    this.aliases = aliases;
    this.sent = new Map();
    // Events (DataSet) are not states: each is sent once, from the outbox, never as a change.
    for (const m of [...node, ...devices.flatMap((d) => d.metrics)]) if (m.datatype !== DataType.DataSet) this.sent.set(m.alias!, JSON.stringify(m.value));
    return { node, devices };
  }

  /** What changed since it was last sent, by alias; "rebirth" when a reading or a device is not in the birth. */
  changes(source: NodeSource, now: number): Certificates | "rebirth" {
    const changed = (device: string, readings: Reading[]): Metric[] | undefined => {
      const names = this.aliases.get(device);
      if (!names || readings.length !== names.size) return undefined;
      const out: Metric[] = [];
      for (const r of readings) {
        const alias = names.get(r.name);
        if (alias === undefined) return undefined;
        if (r.datatype === DataType.DataSet) continue;
        const json = JSON.stringify(r.value);
        if (this.sent.get(alias) === json) continue;
        this.sent.set(alias, json);
        out.push({ alias, timestamp: now, datatype: r.datatype, value: r.value });
      }
      return out;
    };
    const node = changed("", source.readings());
    const sources = source.devices();
    if (!node || sources.length !== this.aliases.size - 1) return "rebirth";
    const devices: Certificates["devices"] = [];
    for (const d of sources) {
      const metrics = changed(d.id, d.readings());
      if (!metrics) return "rebirth";
      devices.push({ id: d.id, metrics });
    }
    return { node, devices };
  }

  alias(device: string, name: string): number | undefined {
    return this.aliases.get(device)?.get(name);
  }

  /** Alias to name for one device's birth: a host may write by alias. */
  names(device: string): Map<number, string> {
    return new Map([...(this.aliases.get(device) ?? [])].map(([n, a]) => [a, n]));
  }

  has(device: string): boolean {
    return this.aliases.has(device);
  }

  /** The devices of the current birth (not the node). */
  devices(): string[] {
    return [...this.aliases.keys()].filter((d) => d !== "");
  }
}
