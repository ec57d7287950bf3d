import { describe } from "node:test";
import { ChardevGpio } from "../../../daemon/actuation/chardev-gpio.js";
import { OnoffGpio } from "../../../daemon/actuation/onoff-gpio.js";
import { gpioContract } from "../../contracts/gpio-contract.js";
import { SimChip } from "./gpio-sim.js";

// The Gpio contract (test/contracts/gpio-contract.ts) on the kernel's gpio-sim:
// outputs are read from the sim's side of each line, the input is driven
// through its pull.
const LINES = ["out", "outLow", "in"];

describe("the Gpio contract on gpio-sim", () => {
  gpioContract("character device (gpiod) on gpio-sim", () => {
    const chip = SimChip.create("contract-cdev", LINES);
    return {
      gpio: new ChardevGpio(chip.label),
      pins: { out: "out", outLow: "outLow", in: "in" },
      level: (line) => chip.line(line).value(),
      drive: (high) => void chip.line("in").pull(high),
      missing: "no-such-line",
      cleanup: () => chip.remove(),
    };
  });

  gpioContract("sysfs (onoff) on gpio-sim", () => {
    const chip = SimChip.create("contract-sysfs", LINES);
    const base = chip.sysfsBase();
    return {
      gpio: new OnoffGpio(),
      pins: { out: base, outLow: base + 1, in: base + 2 },
      level: (line) => chip.line(line).value(),
      drive: (high) => void chip.line("in").pull(high),
      // No missing pin here: exporting the number beside a gpio-sim chip removed moments before
      // (the gpiod case's) dereferences NULL in Debian 12's kernel (6.1: export_store ->
      // gpiochip_line_is_valid) and hangs the VM. The character device is asked for a missing line above.
      cleanup: () => chip.remove(),
    };
  });
});
