import { Gpio as OnoffPin, type BinaryValue } from "onoff";
import { nowMs } from "../util/clock.js";
import { EdgeError, errorMessage } from "../util/errors.js";
import { edgesSince } from "./sysfs-edges.js";
import { edgeWanted, type Gpio, type InputLine, type InputSpec, type OutputLine, type OutputSpec, type WorkerOutput } from "./gpio.js";

const SYSFS = "/sys/class/gpio";

/**
 * Lines through the sysfs GPIO interface (onoff). onoff's epoll binding must
 * stay on the main thread (it crashes the process when a worker exits), so a
 * worker-driven output is exported and configured here and the worker writes
 * its value file directly (sysfs-value-output.ts).
 */
export class OnoffGpio implements Gpio {
  readonly kind = "onoff";
  private readonly outputs: Array<{ pin: OnoffPin; spec: OutputSpec }> = [];
  private readonly inputs: OnoffPin[] = [];

  constructor() {
    if (!OnoffPin.accessible) throw new EdgeError("E_GPIO_UNAVAILABLE", `onoff: ${SYSFS}/export is missing or not writable (no sysfs GPIO on this kernel? use gpio type gpiod)`);
  }

  output(spec: OutputSpec): OutputLine {
    const n = sysfsNumber(spec);
    // 'high'/'low' set the direction and the raw level in one write, so an
    // active-low line never glitches to energised on the way to its initial state.
    const raw = spec.initial !== spec.activeLow;
    const pin = this.open(spec, () => new OnoffPin(n, raw ? "high" : "low", "none", { activeLow: spec.activeLow }));
    this.outputs.push({ pin, spec });
    return { name: spec.name, set: (active) => pin.writeSync(bit(active)) };
  }

  workerOutput(spec: OutputSpec): WorkerOutput {
    this.output(spec);
    return { type: "sysfs", name: spec.name, valuePath: `${SYSFS}/gpio${sysfsNumber(spec)}/value`, safe: spec.safe };
  }

  input(spec: InputSpec): InputLine {
    const n = sysfsNumber(spec);
    const pin = this.open(spec, () => new OnoffPin(n, "in", "both", { activeLow: spec.activeLow }));
    this.inputs.push(pin);
    return {
      name: spec.name,
      read: () => pin.readSync() === 1,
      watch: (listener) => {
        try {
          // Read before watching: what a notification changed is judged against it (sysfs-edges.ts).
          let last = pin.readSync() === 1;
          pin.watch((err, value) => {
            // epoll reports after the fact; the callback time is the best edge time sysfs gives.
            const tMs = nowMs();
            if (err) return;
            const active = value === 1;
            const edges = edgesSince(last, active);
            last = active;
            for (const edge of edges) if (edgeWanted(spec.edge, edge)) listener({ active: edge, tMs });
          });
        } catch (err) {
          // epoll refuses files that are not sysfs GPIO values (EPERM), e.g. a plain file where the kernel's tree should be.
          throw new EdgeError("E_GPIO_LINE", `onoff: line '${spec.name}' (gpio ${n}): cannot watch its edges: ${errorMessage(err)}`, { cause: err });
        }
      },
    };
  }

  safe(): void {
    for (const o of this.outputs) {
      try {
        o.pin.writeSync(bit(o.spec.safe));
      } catch {
        // one line failing must not keep the others energised
      }
    }
  }

  async close(): Promise<void> {
    this.safe();
    for (const p of [...this.inputs, ...this.outputs.map((o) => o.pin)]) p.unexport();
    this.outputs.length = 0;
    this.inputs.length = 0;
  }

  private open(spec: OutputSpec | InputSpec, make: () => OnoffPin): OnoffPin {
    try {
      return make();
    } catch (err) {
      throw new EdgeError("E_GPIO_LINE", `onoff: line '${spec.name}' (gpio ${String(spec.pin)}): ${errorMessage(err)}`, { cause: err });
    }
  }
}

function bit(active: boolean): BinaryValue {
  return active ? 1 : 0;
}

function sysfsNumber(spec: OutputSpec | InputSpec): number {
  if (typeof spec.pin !== "number") throw new EdgeError("E_GPIO_LINE", `onoff: line '${spec.name}' needs a numeric sysfs gpio pin, got ${JSON.stringify(spec.pin)}`);
  return spec.pin;
}
