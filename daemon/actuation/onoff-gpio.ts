import { writeFileSync } from "node:fs";
import { Gpio as OnoffPin, type BinaryValue } from "onoff";
import { nowMs } from "../util/clock.js";
import { EdgeError, errorMessage } from "../util/errors.js";
import type { Gpio, InputLine, InputSpec, OutputLine, OutputSpec, WorkerOutput } from "./gpio.js";

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
    // sysfs says only that a line changed since its value was last read, and
    // onoff reads the value when the event loop gets to it, passing on only
    // notifications whose level matches the edge it was asked for: a pulse
    // over before the loop read the line was lost. So onoff is asked for both
    // edges and the kernel for the one wanted (its `edge` applies active_low):
    // each notification is then one wanted edge, whatever the level by the
    // time it is read. Several edges between two reads are still one.
    const pin = this.open(spec, () => {
      const p = new OnoffPin(n, "in", "both", { activeLow: spec.activeLow });
      if (spec.edge !== "both") writeFileSync(`${SYSFS}/gpio${n}/edge`, spec.edge);
      return p;
    });
    this.inputs.push(pin);
    return {
      name: spec.name,
      read: () => pin.readSync() === 1,
      watch: (listener) => {
        try {
          // Read before watching: nothing from before counts, and a level has something to be compared with.
          let last = pin.readSync() === 1;
          pin.watch((err, value) => {
            // epoll reports after the fact; the callback time is the best edge time sysfs gives.
            const tMs = nowMs();
            if (err) return;
            if (spec.edge !== "both") return listener({ active: spec.edge === "rising", tMs });
            // Both edges are for watching a level: the same level again has nothing new to say.
            const active = value === 1;
            if (active !== last) listener({ active, tMs });
            last = active;
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
