/** A line on a chip: a sysfs number (onoff), a line offset or line name (GPIO character device). */
export type Pin = number | string;

export interface LineSpec {
  name: string;
  /** Absent for simulated lines, which are known by name only. */
  pin?: Pin;
  /** The device is energised (or the sensor reports) by a low level. */
  activeLow: boolean;
}

export interface OutputSpec extends LineSpec {
  /** Logical state at start (normally the safe one). */
  initial: boolean;
  /** Logical state that de-energises the device; safe() goes there. */
  safe: boolean;
}

export type EdgeChoice = "rising" | "falling" | "both";

export interface InputSpec extends LineSpec {
  /** Which logical transitions are reported (rising = becoming active). */
  edge: EdgeChoice;
}

export interface InputEdge {
  active: boolean;
  /** When the edge happened, on the process clock (util/clock nowMs). */
  tMs: number;
}

/** One output line; `set(true)` energises the device whatever the wiring polarity. */
export interface OutputLine {
  readonly name: string;
  set(active: boolean): void;
}

export interface InputLine {
  readonly name: string;
  /** Logical state now (true = active). */
  read(): boolean;
  watch(listener: (edge: InputEdge) => void): void;
}

/**
 * What a worker thread needs to drive an output itself (the reject
 * scheduler's thread). Plain data: it crosses postMessage.
 */
export type WorkerOutput =
  | { type: "simulated"; name: string; buffer: SharedArrayBuffer; index: number; activeLow: boolean; safe: boolean }
  | { type: "sysfs"; name: string; valuePath: string; safe: boolean }
  /**
   * A GPIO character-device line request held by the main thread: `fd` is the
   * line request's fd (process-wide), driven with GPIO_V2_LINE_SET_VALUES_IOCTL
   * (mask 1: the request holds this one line, at `offset` on `chip`). Values
   * are logical: the line was requested active-low when `activeLow` is set.
   */
  | { type: "gpiod"; name: string; chip: string; offset: number; fd: number; activeLow: boolean; safe: boolean };

/**
 * A GPIO chip. safe() puts every output this thread can reach at its safe
 * level at once and must work from signal and crash handlers, so it is
 * synchronous. workerOutput() prepares a line that another thread drives.
 */
export interface Gpio {
  readonly kind: string;
  output(spec: OutputSpec): OutputLine;
  workerOutput(spec: OutputSpec): WorkerOutput;
  input(spec: InputSpec): InputLine;
  safe(): void;
  close(): Promise<void>;
}

/** Whether a logical transition is one the spec asked for. */
export function edgeWanted(edge: EdgeChoice, active: boolean): boolean {
  return edge === "both" || (edge === "rising") === active;
}
