import { nowMs } from "../util/clock.js";
import { EdgeError } from "../util/errors.js";
import { edgeWanted, type Gpio, type InputEdge, type InputLine, type InputSpec, type OutputLine, type OutputSpec, type WorkerOutput } from "./gpio.js";

export interface Edge {
  line: string;
  /** Logical state: true = device energised / sensor active. */
  active: boolean;
  /** Electrical level on the pin (after active-low). */
  level: 0 | 1;
  tMs: number;
}

const MAX_LINES = 64;
const LOG_SIZE = 1 << 16;
// Int32 header: [0] edges ever written, [1 + i] logical state of line i; even, so the Float64 log that follows is 8-aligned.
const HEADER = 2 + MAX_LINES;

/**
 * A GPIO chip in shared memory: every edge is logged with its
 * high-resolution time, and the reject scheduler's worker drives the same
 * lines through a WorkerOutput, so tests read edges from both threads in one
 * log. Inputs are driven by the test (drive()) and reported to watchers on
 * the thread that drives them.
 */
export class SimulatedGpio implements Gpio {
  readonly kind = "simulated";
  private readonly state: SharedState;
  private readonly names: string[] = [];
  private readonly specs = new Map<string, { index: number; activeLow: boolean; safe?: boolean; input?: InputSpec; watchers: Array<(e: InputEdge) => void> }>();

  constructor() {
    this.state = new SharedState(new SharedArrayBuffer(sharedBytes()));
  }

  output(spec: OutputSpec): OutputLine {
    const index = this.register(spec.name, spec.activeLow, spec.safe);
    this.state.write(index, spec.initial, spec.activeLow, true);
    return { name: spec.name, set: (active) => this.state.write(index, active, spec.activeLow) };
  }

  workerOutput(spec: OutputSpec): WorkerOutput {
    this.output(spec);
    const index = this.specs.get(spec.name)!.index;
    return { type: "simulated", name: spec.name, buffer: this.state.buffer, index, activeLow: spec.activeLow, safe: spec.safe };
  }

  input(spec: InputSpec): InputLine {
    const index = this.register(spec.name, spec.activeLow);
    const entry = this.specs.get(spec.name)!;
    entry.input = spec;
    return {
      name: spec.name,
      read: () => this.state.active(index),
      watch: (listener) => {
        entry.watchers.push(listener);
      },
    };
  }

  /** Drives an input as its sensor would; watchers hear the edge if it is one their spec asked for. */
  drive(name: string, active: boolean): void {
    const entry = this.specs.get(name);
    if (!entry?.input) throw new EdgeError("E_GPIO_LINE", `simulated gpio: '${name}' is not an input`);
    if (this.state.active(entry.index) === active) return;
    const tMs = this.state.write(entry.index, active, entry.activeLow);
    if (!edgeWanted(entry.input.edge, active)) return;
    for (const w of entry.watchers) w({ active, tMs });
  }

  /** Logical state of a line now, whichever thread drove it. */
  isActive(name: string): boolean {
    const entry = this.specs.get(name);
    return entry ? this.state.active(entry.index) : false;
  }

  /** Every edge still in the log (the newest 65536), oldest first. */
  get edges(): Edge[] {
    return this.state.edges().map((e) => ({ line: this.names[e.index] ?? `#${e.index}`, active: e.active, level: e.level, tMs: e.tMs }));
  }

  safe(): void {
    for (const s of this.specs.values()) {
      if (s.safe !== undefined && this.state.active(s.index) !== s.safe) this.state.write(s.index, s.safe, s.activeLow);
    }
  }

  async close(): Promise<void> {
    this.safe();
  }

  private register(name: string, activeLow: boolean, safe?: boolean): number {
    const known = this.specs.get(name);
    if (known) return known.index;
    if (this.names.length >= MAX_LINES) throw new EdgeError("E_GPIO_LINE", `simulated gpio: more than ${MAX_LINES} lines`);
    const index = this.names.length;
    this.names.push(name);
    this.specs.set(name, { index, activeLow, ...(safe === undefined ? {} : { safe }), watchers: [] });
    return index;
  }
}

/** The worker thread's side of a simulated output: the same shared lines and log. */
export function attachSimulatedOutput(w: Extract<WorkerOutput, { type: "simulated" }>): OutputLine {
  const state = new SharedState(w.buffer);
  return { name: w.name, set: (active) => state.write(w.index, active, w.activeLow) };
}

function sharedBytes(): number {
  // header, then per log slot: sequence, line, state (Int32) and time (Float64)
  return HEADER * 4 + LOG_SIZE * 3 * 4 + LOG_SIZE * 8;
}

class SharedState {
  private readonly header: Int32Array;
  private readonly seq: Int32Array;
  private readonly line: Int32Array;
  private readonly value: Int32Array;
  private readonly time: Float64Array;

  constructor(readonly buffer: SharedArrayBuffer) {
    let off = 0;
    const ints = (n: number) => {
      const a = new Int32Array(buffer, off, n);
      off += n * 4;
      return a;
    };
    this.header = ints(HEADER);
    this.seq = ints(LOG_SIZE);
    this.line = ints(LOG_SIZE);
    this.value = ints(LOG_SIZE);
    this.time = new Float64Array(buffer, off, LOG_SIZE);
  }

  active(index: number): boolean {
    return (Atomics.load(this.header, 1 + index) & 1) === 1;
  }

  /** Sets a line and logs the edge (or the initial level); returns its time. */
  write(index: number, active: boolean, activeLow: boolean, initial = false): number {
    const tMs = nowMs();
    const v = active ? 1 : 0;
    if (Atomics.exchange(this.header, 1 + index, v) === v && !initial) return tMs;
    const n = Atomics.add(this.header, 0, 1);
    const slot = n % LOG_SIZE;
    this.line[slot] = index;
    this.value[slot] = v | ((active !== activeLow ? 1 : 0) << 1);
    this.time[slot] = tMs;
    // Published last: a reader takes a slot only once its sequence matches.
    Atomics.store(this.seq, slot, n + 1);
    return tMs;
  }

  edges(): Array<{ index: number; active: boolean; level: 0 | 1; tMs: number }> {
    const total = Atomics.load(this.header, 0);
    const out = [];
    for (let n = Math.max(0, total - LOG_SIZE); n < total; n++) {
      const slot = n % LOG_SIZE;
      if (Atomics.load(this.seq, slot) !== n + 1) break;
      const v = this.value[slot]!;
      out.push({ index: this.line[slot]!, active: (v & 1) === 1, level: ((v >> 1) & 1) as 0 | 1, tMs: this.time[slot]! });
    }
    return out;
  }
}
