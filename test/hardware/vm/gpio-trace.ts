import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, readFileSync, rmdirSync, writeFileSync } from "node:fs";
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
 * not delayed by the sampler's scheduling. Each trace is a tracing instance of
 * its own (its own buffer and event switch), so traces may overlap.
 */
export class GpioTrace {
  /** Levels read from the lines (by a driver, or sysfs's `value`), filled in by stop(). */
  readonly reads: Level[] = [];

  private constructor(
    private readonly lines: Map<number, string>,
    private readonly dir: string,
  ) {}

  /** `lines`: global gpio number (chip base + offset) → line name. */
  static start(lines: Map<number, string>): GpioTrace {
    return new GpioTrace(lines, instance());
  }

  /** The levels the lines were driven to (the `set`s). */
  stop(): Level[] {
    write(this.dir, "events/gpio/gpio_value/enable", "0");
    const text = readFileSync(join(this.dir, "trace"), "utf8");
    rmdirSync(this.dir);
    const out: Level[] = [];
    for (const line of text.split("\n")) {
      const l = parse(line, this.lines);
      if (l) (l.get ? this.reads : out).push(l.level);
    }
    this.reads.sort((a, b) => a.tMs - b.tMs);
    return out.sort((a, b) => a.tMs - b.tMs);
  }
}

/**
 * The levels lines are driven to, handed to `onLevel` as they come (a tracing
 * instance's trace_pipe): for a test playing a sensor that reacts to an
 * output. Times are the kernel's; the call comes when this process gets to it.
 */
export class GpioWatch {
  private constructor(
    private readonly dir: string,
    private readonly reader: ChildProcess,
  ) {}

  static start(lines: Map<number, string>, onLevel: (l: Level) => void): GpioWatch {
    const dir = instance();
    const reader = spawn("cat", [join(dir, "trace_pipe")], { stdio: ["ignore", "pipe", "ignore"] });
    let partial = "";
    reader.stdout!.on("data", (d: Buffer) => {
      const text = partial + d.toString();
      const complete = text.split("\n");
      partial = complete.pop()!;
      for (const line of complete) {
        const l = parse(line, lines);
        if (l && !l.get) onLevel(l.level);
      }
    });
    return new GpioWatch(dir, reader);
  }

  async stop(): Promise<void> {
    write(this.dir, "events/gpio/gpio_value/enable", "0");
    const gone = new Promise((r) => this.reader.once("close", r));
    this.reader.kill();
    await gone;
    rmdirSync(this.dir);
  }
}

let made = 0;

/** A tracing instance of its own (its own buffer and event switch) with gpio_value on, stamped on CLOCK_MONOTONIC. */
function instance(): string {
  const dir = join(TRACING, "instances", `ei-${process.pid}-${++made}`);
  mkdirSync(dir);
  write(dir, "trace_clock", "mono");
  write(dir, "buffer_size_kb", "4096");
  write(dir, "events/gpio/gpio_value/enable", "1");
  return dir;
}

function parse(text: string, lines: Map<number, string>): { level: Level; get: boolean } | undefined {
  const m = /\s(\d+\.\d+): gpio_value: (\d+) (set|get) (-?\d+)/.exec(text);
  const name = m ? lines.get(Number(m[2])) : undefined;
  return m && name !== undefined ? { level: { line: name, value: m[4] === "0" ? 0 : 1, tMs: Number(m[1]) * 1000 }, get: m[3] === "get" } : undefined;
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

function write(dir: string, file: string, value: string): void {
  writeFileSync(join(dir, file), value);
}
