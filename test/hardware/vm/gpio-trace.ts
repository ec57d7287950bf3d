import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const TRACING = "/sys/kernel/debug/tracing";

/** A level the kernel drove a line to, at `tMs` (CLOCK_MONOTONIC: the process clock). */
export interface Level {
  line: string;
  value: 0 | 1;
  tMs: number;
}

/**
 * What the kernel's GPIO core drove each line to, from its `gpio_value`
 * tracepoint: every set, by whichever path (character device, sysfs), stamped
 * by the kernel on CLOCK_MONOTONIC. Unlike sampling the sim's value from a
 * thread of a slow VM, it misses no change however short, and its times are
 * not delayed by the sampler's scheduling.
 */
export class GpioTrace {
  /** Levels read from the lines (by a driver, or sysfs's `value`), filled in by stop(). */
  readonly reads: Level[] = [];

  private constructor(private readonly lines: Map<number, string>) {}

  /** `lines`: global gpio number (chip base + offset) → line name. */
  static start(lines: Map<number, string>): GpioTrace {
    write("events/gpio/gpio_value/enable", "0");
    write("trace_clock", "mono");
    write("buffer_size_kb", "4096");
    write("trace", "");
    write("events/gpio/gpio_value/enable", "1");
    return new GpioTrace(lines);
  }

  /** The levels the lines were driven to (the `set`s). */
  stop(): Level[] {
    write("events/gpio/gpio_value/enable", "0");
    const out: Level[] = [];
    for (const text of readFileSync(join(TRACING, "trace"), "utf8").split("\n")) {
      const m = /\s(\d+\.\d+): gpio_value: (\d+) (set|get) (-?\d+)/.exec(text);
      if (!m) continue;
      const line = this.lines.get(Number(m[2]));
      if (line !== undefined) (m[3] === "set" ? out : this.reads).push({ line, value: m[4] === "0" ? 0 : 1, tMs: Number(m[1]) * 1000 });
    }
    this.reads.sort((a, b) => a.tMs - b.tMs);
    return out.sort((a, b) => a.tMs - b.tMs);
  }
}

/** Pulses (set 1, then set 0) one line was driven through. */
export function pulses(levels: Level[], line: string): Array<{ on: number; off: number }> {
  const out: Array<{ on: number; off: number }> = [];
  let on: number | undefined;
  for (const l of levels.filter((x) => x.line === line)) {
    if (l.value === 1 && on === undefined) on = l.tMs;
    else if (l.value === 0 && on !== undefined) {
      out.push({ on, off: l.tMs });
      on = undefined;
    }
  }
  return out;
}

function write(file: string, value: string): void {
  writeFileSync(join(TRACING, file), value);
}
