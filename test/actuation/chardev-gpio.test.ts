import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { ChardevGpio } from "../../daemon/actuation/chardev-gpio.js";
import { gpioCdev } from "../../daemon/actuation/gpio-cdev-binding.js";
import { nowMs } from "../../daemon/util/clock.js";

// The kernel side is shown in the hardware lane (test/hardware: gpio-sim in a
// VM); here, what holds on any machine: the binding needs no libgpiod, its
// clock is the process clock, and a chip that is not there is a clear error.
const ADDON = fileURLToPath(new URL("../../../build/gpio-cdev/gpio_cdev.node", import.meta.url));

test("the GPIO character-device binding links nothing but libc: no libgpiod, so libgpiod 1.6 and 2.x systems are alike to it", () => {
  const needed = execFileSync("objdump", ["-p", ADDON], { encoding: "utf8" })
    .split("\n")
    .filter((l) => /^\s*NEEDED\s/.test(l))
    .map((l) => l.trim().split(/\s+/)[1]);
  assert.deepEqual(needed, ["libc.so.6"]);
});

test("edge timestamps' clock (CLOCK_MONOTONIC) is the process clock util/clock reads", () => {
  const cdev = gpioCdev();
  const a = nowMs();
  const m = cdev.monotonicMs();
  const b = nowMs();
  assert.ok(m >= a - 0.01 && m <= b + 0.01, `${a} <= ${m} <= ${b}`);
});

test("a GPIO chip that is missing, not a chip, or an unknown label is refused with E_GPIO_CHIP", () => {
  assert.throws(() => new ChardevGpio("gpiochip63"), (e: Error & { code?: string }) => e.code === "E_GPIO_CHIP" && /cannot open GPIO chip 'gpiochip63' \(\/dev\/gpiochip63\): .*No such file/.test(e.message));
  assert.throws(() => new ChardevGpio("/dev/null"), (e: Error & { code?: string }) => e.code === "E_GPIO_CHIP" && /not a GPIO chip/.test(e.message));
  assert.throws(() => new ChardevGpio("pinctrl-none"), (e: Error & { code?: string }) => e.code === "E_GPIO_CHIP" && /no GPIO chip labelled 'pinctrl-none'/.test(e.message));
});

test("the binding refuses bad arguments with a TypeError, not a crash", () => {
  const cdev = gpioCdev();
  assert.throws(() => cdev.lineSet("x" as unknown as number, true), TypeError);
  assert.throws(() => cdev.lineGet(-1), (e: Error & { code?: string }) => e.code === "EBADF");
});
