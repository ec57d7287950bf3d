import { SimulatedGpio } from "../../daemon/actuation/simulated-gpio.js";
import { gpioContract } from "./gpio-contract.js";

// The character-device and sysfs (onoff) implementations run this suite against
// the kernel's gpio-sim in the hardware lane (test/hardware/vm/gpio-contract.vm.ts).
gpioContract("simulated", () => {
  const gpio = new SimulatedGpio();
  const polarity = { out: false, outLow: true };
  return {
    gpio,
    pins: { out: undefined, outLow: undefined, in: undefined },
    level: (line) => (gpio.isActive(line) !== polarity[line] ? 1 : 0),
    drive: (high) => gpio.drive("in", high),
    cleanup: () => undefined,
  };
});
