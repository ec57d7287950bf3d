import { mkdirSync, readFileSync, readdirSync, rmdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { nowMs } from "../../../daemon/util/clock.js";

const CONFIGFS = "/sys/kernel/config/gpio-sim";

/** One line of a gpio-sim bank, seen from the device side. */
export interface SimLine {
  readonly offset: number;
  readonly name: string;
  /** sim_gpioN/value: what an output drives, or an input's pulled level. */
  readonly valuePath: string;
  /**
   * Drives an input as a sensor would: pull-up (1) or pull-down (0). Returns
   * the time just before the write: the edge is no earlier, and may be later
   * by however long this process was kept from running meanwhile.
   */
  pull(high: boolean): number;
  value(): 0 | 1;
}

/**
 * A gpio-sim chip made through configfs (drivers/gpio/gpio-sim.c): a bank of
 * named lines that appears as a real /dev/gpiochipN and, with sysfs GPIO, as
 * /sys/class/gpio/gpiochipBASE.
 */
export class SimChip {
  readonly lines: SimLine[];
  /** gpiochipN, as the kernel named it. */
  readonly chipName: string;
  readonly label: string;

  private constructor(
    private readonly dir: string,
    names: string[],
  ) {
    this.chipName = readFileSync(join(dir, "bank0", "chip_name"), "utf8").trim();
    const devName = readFileSync(join(dir, "dev_name"), "utf8").trim();
    this.label = readFileSync(join(dir, "bank0", "label"), "utf8").trim();
    const sim = join("/sys/devices/platform", devName, this.chipName);
    this.lines = names.map((name, offset) => {
      const valuePath = join(sim, `sim_gpio${offset}`, "value");
      const pullPath = join(sim, `sim_gpio${offset}`, "pull");
      return {
        offset,
        name,
        valuePath,
        pull: (high: boolean) => {
          const t = nowMs();
          writeFileSync(pullPath, high ? "pull-up" : "pull-down");
          return t;
        },
        value: () => (readFileSync(valuePath, "utf8").trim() === "1" ? 1 : 0),
      };
    });
  }

  static create(id: string, names: string[]): SimChip {
    const dir = join(CONFIGFS, id);
    mkdirSync(dir);
    mkdirSync(join(dir, "bank0"));
    writeFileSync(join(dir, "bank0", "num_lines"), String(names.length));
    writeFileSync(join(dir, "bank0", "label"), `sim-${id}`);
    names.forEach((name, i) => {
      mkdirSync(join(dir, "bank0", `line${i}`));
      writeFileSync(join(dir, "bank0", `line${i}`, "name"), name);
    });
    writeFileSync(join(dir, "live"), "1");
    return new SimChip(dir, names);
  }

  line(name: string): SimLine {
    const l = this.lines.find((x) => x.name === name);
    if (!l) throw new Error(`no sim line '${name}'`);
    return l;
  }

  /** The chip's first number in the sysfs GPIO space (dynamic: onoff pins are base + offset). */
  sysfsBase(): number {
    for (const d of readdirSync("/sys/class/gpio").filter((x) => x.startsWith("gpiochip"))) {
      if (readFileSync(join("/sys/class/gpio", d, "label"), "utf8").trim() === this.label) return Number(readFileSync(join("/sys/class/gpio", d, "base"), "utf8"));
    }
    throw new Error(`chip ${this.label} is not in /sys/class/gpio`);
  }

  /** Global gpio number → line name, as the kernel's GPIO tracepoints number lines. */
  numbers(): Map<number, string> {
    const base = this.sysfsBase();
    return new Map(this.lines.map((l) => [base + l.offset, l.name]));
  }

  remove(): void {
    writeFileSync(join(this.dir, "live"), "0");
    for (const d of readdirSync(join(this.dir, "bank0")).filter((x) => x.startsWith("line"))) rmdirSync(join(this.dir, "bank0", d));
    rmdirSync(join(this.dir, "bank0"));
    rmdirSync(this.dir);
  }
}
