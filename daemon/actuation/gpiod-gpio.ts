import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { createRequire } from "node:module";
import { createInterface } from "node:readline";
import { EdgeError, errorMessage } from "../util/errors.js";
import { edgeWanted, type Gpio, type InputEdge, type InputLine, type InputSpec, type OutputLine, type OutputSpec, type Pin, type WorkerOutput } from "./gpio.js";

/** The part of node-libgpiod (libgpiod 1.6) this driver uses. */
interface LibgpiodLine {
  readonly offset: number;
  requestOutputMode(consumer: string, value: 0 | 1): void;
  setValue(value: 0 | 1): void;
  release(): void;
}
interface LibgpiodChip {
  getLine(pin: number | string): LibgpiodLine;
}
interface Libgpiod {
  Chip: new (chip: string) => LibgpiodChip;
}

const CONSUMER = "edge-inspect";

function libgpiod(): Libgpiod {
  try {
    // Loaded on use: a station on sysfs or simulated GPIO never needs the native binding.
    return createRequire(import.meta.url)("node-libgpiod") as Libgpiod;
  } catch (err) {
    throw new EdgeError("E_GPIO_UNAVAILABLE", `gpiod: the node-libgpiod binding is not built (apt install libgpiod-dev, then npm rebuild node-libgpiod): ${errorMessage(err)}`, { cause: err });
  }
}

function openChip(chip: string): LibgpiodChip {
  const { Chip } = libgpiod();
  try {
    return new Chip(chip);
  } catch (err) {
    throw new EdgeError("E_GPIO_CHIP", `gpiod: cannot open GPIO chip '${chip}' (${errorMessage(err)}); list chips with gpiodetect`, { cause: err });
  }
}

/** Requests an output line at its initial level; libgpiod knows raw levels, active-low is applied here. */
function requestOutput(chip: LibgpiodChip, chipName: string, spec: { name: string; pin?: Pin; activeLow: boolean; initial: boolean }): OutputLine {
  if (spec.pin === undefined) throw new EdgeError("E_GPIO_LINE", `gpiod: line '${spec.name}' needs a pin (line offset or line name)`);
  let line: LibgpiodLine;
  try {
    line = chip.getLine(spec.pin);
    line.requestOutputMode(CONSUMER, raw(spec.initial, spec.activeLow));
  } catch (err) {
    throw new EdgeError("E_GPIO_LINE", `gpiod: cannot request line '${spec.name}' (${String(spec.pin)}) on ${chipName} as output: ${errorMessage(err)}`, { cause: err });
  }
  return { name: spec.name, set: (active) => line.setValue(raw(active, spec.activeLow)) };
}

/**
 * Lines through the GPIO character device (libgpiod 1.6): outputs with the
 * node-libgpiod binding, inputs with `gpiomon`, which reports each edge with
 * the kernel's CLOCK_MONOTONIC timestamp — the clock util/clock reads, so
 * edge times are exact whatever the event loop was doing.
 */
export class GpiodGpio implements Gpio {
  readonly kind = "gpiod";
  private readonly chip: LibgpiodChip;
  private readonly outputs: Array<{ line: OutputLine; spec: OutputSpec }> = [];
  private readonly monitors: ChildProcess[] = [];

  constructor(private readonly chipName: string) {
    this.chip = openChip(chipName);
  }

  output(spec: OutputSpec): OutputLine {
    const line = requestOutput(this.chip, this.chipName, spec);
    this.outputs.push({ line, spec });
    return line;
  }

  workerOutput(spec: OutputSpec): WorkerOutput {
    if (spec.pin === undefined) throw new EdgeError("E_GPIO_LINE", `gpiod: line '${spec.name}' needs a pin (line offset or line name)`);
    return { type: "gpiod", name: spec.name, chip: this.chipName, pin: spec.pin, activeLow: spec.activeLow, initial: spec.initial, safe: spec.safe };
  }

  input(spec: InputSpec): InputLine {
    if (spec.pin === undefined) throw new EdgeError("E_GPIO_LINE", `gpiod: line '${spec.name}' needs a pin (line offset or line name)`);
    // gpiomon takes offsets: a line name is resolved through the chip.
    const offset = typeof spec.pin === "number" ? spec.pin : this.chip.getLine(spec.pin).offset;
    const flags = spec.activeLow ? ["-l"] : [];
    let state = execFileSync("gpioget", [...flags, this.chipName, String(offset)], { encoding: "utf8" }).trim() === "1";
    const watchers: Array<(e: InputEdge) => void> = [];
    // stdbuf: gpiomon's stdout is block-buffered into a pipe.
    const mon = spawn("stdbuf", ["-oL", "gpiomon", ...flags, "--format=%e %s %n", this.chipName, String(offset)], { stdio: ["ignore", "pipe", "pipe"] });
    this.monitors.push(mon);
    createInterface({ input: mon.stdout! }).on("line", (text) => {
      const edge = parseGpiomonLine(text);
      if (!edge) return;
      state = edge.active;
      if (edgeWanted(spec.edge, edge.active)) for (const w of watchers) w(edge);
    });
    return { name: spec.name, read: () => state, watch: (l) => void watchers.push(l) };
  }

  safe(): void {
    for (const o of this.outputs) {
      try {
        o.line.set(o.spec.safe);
      } catch {
        // one line failing must not keep the others energised
      }
    }
  }

  async close(): Promise<void> {
    this.safe();
    for (const m of this.monitors) m.kill();
    this.monitors.length = 0;
  }
}

/** One `gpiomon --format='%e %s %n'` line: event (1 rising, 0 falling), seconds, nanoseconds. */
export function parseGpiomonLine(text: string): InputEdge | undefined {
  const m = /^([01]) (\d+) (\d+)$/.exec(text.trim());
  if (!m) return undefined;
  return { active: m[1] === "1", tMs: Number(m[2]) * 1000 + Number(m[3]) / 1e6 };
}

function raw(active: boolean, activeLow: boolean): 0 | 1 {
  return active !== activeLow ? 1 : 0;
}
