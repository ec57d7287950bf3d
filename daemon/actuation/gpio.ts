export interface OutputSpec {
  name: string;
  /** The actuator is energised by a low level. */
  activeLow: boolean;
}

/** One output line; `set(true)` energises the actuator whatever the wiring polarity. */
export interface OutputLine {
  readonly name: string;
  set(active: boolean): void;
}

/**
 * A GPIO chip. Outputs start at their safe (de-energised) level; safe() puts
 * every output there at once and must work from signal and crash handlers,
 * so it is synchronous.
 */
export interface Gpio {
  readonly kind: string;
  output(spec: OutputSpec): OutputLine;
  safe(): void;
  close(): Promise<void>;
}
