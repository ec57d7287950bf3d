import { readdirSync } from "node:fs";
import { EdgeError, errorCode, errorMessage } from "../util/errors.js";
import { gpioCdev, type GpioCdevBinding } from "./gpio-cdev-binding.js";
import { edgeWanted, type Gpio, type InputEdge, type InputLine, type InputSpec, type LineSpec, type OutputLine, type OutputSpec, type WorkerOutput } from "./gpio.js";

const CONSUMER = "edge-inspect";

/**
 * Lines through the kernel's GPIO character device, uAPI v2 (native/gpio-cdev):
 * the only GPIO a Pi 5 or a JetPack 6 board has. No libgpiod, so it runs the
 * same on libgpiod 1.6 (bookworm) and 2.x (trixie) systems. Each line is its
 * own request; the kernel applies active-low, so values and edges are logical.
 * Edge times are the kernel's CLOCK_MONOTONIC stamps, the clock util/clock
 * reads (process.hrtime), so they are exact whatever the event loop was doing.
 * Worker-driven outputs are requested here too: the request fd is process-wide,
 * so the worker (or a native real-time thread) drives it while safe() on this
 * thread still reaches it from signal and crash handlers.
 */
export class ChardevGpio implements Gpio {
  readonly kind = "gpiod";
  private readonly cdev: GpioCdevBinding;
  private readonly chipFd: number;
  private readonly chipName: string;
  private readonly outputs: Array<{ fd: number; spec: OutputSpec }> = [];
  private readonly inputs: Array<{ fd: number; watches: object[] }> = [];
  private closed = false;

  constructor(chip: string) {
    this.cdev = gpioCdev();
    const path = chipPath(this.cdev, chip);
    try {
      this.chipFd = this.cdev.chipOpen(path);
    } catch (err) {
      throw new EdgeError("E_GPIO_CHIP", `gpiod: cannot open GPIO chip '${chip}' (${path}): ${errorMessage(err)}; list chips with gpiodetect or ls /dev/gpiochip*`, { cause: err });
    }
    this.chipName = this.cdev.chipInfo(this.chipFd).name;
  }

  output(spec: OutputSpec): OutputLine {
    const fd = this.requestOutput(spec);
    return { name: spec.name, set: (active) => this.cdev.lineSet(fd, active) };
  }

  workerOutput(spec: OutputSpec): WorkerOutput {
    const offset = this.offsetOf(spec);
    const fd = this.requestOutput(spec);
    return { type: "gpiod", name: spec.name, chip: this.chipName, offset, fd, activeLow: spec.activeLow, safe: spec.safe };
  }

  input(spec: InputSpec): InputLine {
    const { FLAGS } = this.cdev;
    // Asked for both edges, the kernel tells them apart by reading the line when its interrupt thread
    // runs: a pulse over by then (a short one, on a loaded board) comes out as two falling edges, and
    // its rising edge, a part, is lost (seen in the hardware lane). Asked for one, it reports that one.
    const edges = spec.edge === "both" ? FLAGS.EDGE_RISING | FLAGS.EDGE_FALLING : spec.edge === "rising" ? FLAGS.EDGE_RISING : FLAGS.EDGE_FALLING;
    const flags = FLAGS.INPUT | edges | (spec.activeLow ? FLAGS.ACTIVE_LOW : 0);
    const fd = this.request(spec, flags, 0, "input");
    const input = { fd, watches: [] as object[] };
    this.inputs.push(input);
    return {
      name: spec.name,
      read: () => this.cdev.lineGet(fd),
      watch: (listener: (e: InputEdge) => void) => {
        input.watches.push(
          this.cdev.watch(fd, (err, active, tMs) => {
            if (err) {
              process.emitWarning(`gpiod: line '${spec.name}' on ${this.chipName}: reading edges failed: ${err.message}`, { code: "E_GPIO_LINE" });
              return;
            }
            if (edgeWanted(spec.edge, active)) listener({ active, tMs });
          }),
        );
      },
    };
  }

  safe(): void {
    for (const o of this.outputs) {
      try {
        this.cdev.lineSet(o.fd, o.spec.safe);
      } catch {
        // one line failing must not keep the others energised
      }
    }
  }

  async close(): Promise<void> {
    // Once: a second close would close descriptors the process may have handed out again.
    if (this.closed) return;
    this.closed = true;
    this.safe();
    for (const i of this.inputs) {
      for (const w of i.watches) this.cdev.unwatch(w);
      this.cdev.close(i.fd);
    }
    for (const o of this.outputs) this.cdev.close(o.fd);
    this.inputs.length = 0;
    this.outputs.length = 0;
    this.cdev.close(this.chipFd);
  }

  private requestOutput(spec: OutputSpec): number {
    const { FLAGS } = this.cdev;
    const fd = this.request(spec, FLAGS.OUTPUT | (spec.activeLow ? FLAGS.ACTIVE_LOW : 0), spec.initial ? 1 : 0, "output");
    this.outputs.push({ fd, spec });
    return fd;
  }

  private request(spec: LineSpec, flags: number, value: 0 | 1, as: string): number {
    const offset = this.offsetOf(spec);
    try {
      return this.cdev.lineRequest(this.chipFd, offset, flags, value, CONSUMER, 0);
    } catch (err) {
      const where = `line '${spec.name}' (${typeof spec.pin === "string" ? `'${spec.pin}', ` : ""}offset ${offset}) on ${this.chipName}`;
      if (errorCode(err) === "EBUSY") {
        const holder = this.cdev.lineInfo(this.chipFd, offset).consumer;
        throw new EdgeError("E_GPIO_BUSY", `gpiod: ${where} is already held by ${holder ? `'${holder}'` : "another consumer"}; stop it or pick another line (gpioinfo shows holders)`, { cause: err });
      }
      throw new EdgeError("E_GPIO_LINE", `gpiod: cannot request ${where} as ${as}: ${errorMessage(err)}`, { cause: err });
    }
  }

  /** A pin is a line offset or a line name (as the board's device tree names it). */
  private offsetOf(spec: LineSpec): number {
    const { lines } = this.cdev.chipInfo(this.chipFd);
    if (spec.pin === undefined) throw new EdgeError("E_GPIO_LINE", `gpiod: line '${spec.name}' needs a pin (line offset or line name)`);
    if (typeof spec.pin === "number") {
      if (!Number.isInteger(spec.pin) || spec.pin < 0 || spec.pin >= lines) throw new EdgeError("E_GPIO_LINE", `gpiod: line '${spec.name}': offset ${spec.pin} is not on ${this.chipName} (lines 0..${lines - 1})`);
      return spec.pin;
    }
    const names: string[] = [];
    for (let o = 0; o < lines; o++) {
      const name = this.cdev.lineInfo(this.chipFd, o).name;
      if (name === spec.pin) return o;
      if (name) names.push(name);
    }
    throw new EdgeError("E_GPIO_LINE", `gpiod: line '${spec.name}': no line named '${spec.pin}' on ${this.chipName} (named lines: ${names.join(", ") || "none"})`);
  }
}

/** The worker thread's side: the main thread holds the request, the fd is shared by every thread. */
export function openChardevOutput(w: Extract<WorkerOutput, { type: "gpiod" }>): OutputLine {
  const cdev = gpioCdev();
  return { name: w.name, set: (active) => cdev.lineSet(w.fd, active) };
}

/** A chip given as a path, a name (gpiochip0), a number or a label (the driver's, e.g. pinctrl-rp1). */
function chipPath(cdev: GpioCdevBinding, chip: string): string {
  if (chip.startsWith("/")) return chip;
  if (/^\d+$/.test(chip)) return `/dev/gpiochip${chip}`;
  if (/^gpiochip\d+$/.test(chip)) return `/dev/${chip}`;
  let devs: string[] = [];
  try {
    devs = readdirSync("/dev").filter((d) => /^gpiochip\d+$/.test(d));
  } catch {
    // no /dev to list: reported below
  }
  for (const d of devs) {
    let fd: number | undefined;
    try {
      fd = cdev.chipOpen(`/dev/${d}`);
      if (cdev.chipInfo(fd).label === chip) return `/dev/${d}`;
    } catch {
      // a chip we may not open is not the one asked for
    } finally {
      if (fd !== undefined) cdev.close(fd);
    }
  }
  throw new EdgeError("E_GPIO_CHIP", `gpiod: no GPIO chip labelled '${chip}' (chips: ${devs.join(", ") || "none"})`);
}

