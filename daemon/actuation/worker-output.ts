import type { OutputLine, WorkerOutput } from "./gpio.js";
import { attachSimulatedOutput } from "./simulated-gpio.js";
import { openSysfsValueOutput } from "./sysfs-value-output.js";
import { openChardevOutput } from "./chardev-gpio.js";

/** Opens, in the worker thread, an output the main thread prepared with Gpio.workerOutput(). */
export function openWorkerOutput(w: WorkerOutput): OutputLine {
  switch (w.type) {
    case "simulated":
      return attachSimulatedOutput(w);
    case "sysfs":
      return openSysfsValueOutput(w);
    case "gpiod":
      return openChardevOutput(w);
  }
}
