import { test } from "node:test";
import assert from "node:assert/strict";
import type { Gpio, InputEdge, Pin } from "../../daemon/actuation/gpio.js";
import { nowMs } from "../../daemon/util/clock.js";
import { rejectsCoded, until } from "./coded.js";

/** The lines a Gpio implementation is tested on: two outputs and an input, with how to see and drive them from outside. */
export interface GpioUnderTest {
  gpio: Gpio;
  pins: { out: Pin | undefined; outLow: Pin | undefined; in: Pin | undefined };
  /** The electrical level an output line is at, seen from the device side. */
  level(line: "out" | "outLow"): 0 | 1;
  /** Drives the input's electrical level, as its sensor would. */
  drive(high: boolean): void;
  /** A pin the chip does not have; absent for the simulated twin, whose lines are known by name only. */
  missing?: Pin;
  cleanup(): void | Promise<void>;
}

/** What every Gpio does, whatever drives the lines. */
export function gpioContract(name: string, setup: () => GpioUnderTest | Promise<GpioUnderTest>): void {
  test(`Gpio contract (${name}): outputs follow set() through their polarity, safe() takes each to its safe level, inputs read and report the edges asked for on the process clock, close twice is harmless`, async () => {
    const u = await setup();
    try {
      const g = u.gpio;
      const out = g.output({ name: "out", ...(u.pins.out === undefined ? {} : { pin: u.pins.out }), activeLow: false, initial: false, safe: false });
      const low = g.output({ name: "outLow", ...(u.pins.outLow === undefined ? {} : { pin: u.pins.outLow }), activeLow: true, initial: false, safe: false });
      assert.deepEqual([u.level("out"), u.level("outLow")], [0, 1], "initial: both inactive (active-low inactive is high)");
      out.set(true);
      low.set(true);
      assert.deepEqual([u.level("out"), u.level("outLow")], [1, 0], "energised");
      g.safe();
      assert.deepEqual([u.level("out"), u.level("outLow")], [0, 1], "safe() de-energises both");

      const input = g.input({ name: "in", ...(u.pins.in === undefined ? {} : { pin: u.pins.in }), activeLow: false, edge: "rising" });
      const edges: InputEdge[] = [];
      input.watch((e) => edges.push(e));
      u.drive(false);
      await until("the input to read low", () => input.read() === false, 5000);
      edges.length = 0;
      const t0 = nowMs();
      u.drive(true);
      await until("a rising edge", () => edges.length >= 1, 10_000);
      assert.equal(input.read(), true);
      u.drive(false);
      await until("the input to read low again", () => input.read() === false, 5000);
      u.drive(true);
      await until("a second rising edge", () => edges.length >= 2, 10_000);
      const t1 = nowMs();
      assert.ok(edges.every((e) => e.active), `only the rising edges asked for: ${JSON.stringify(edges)}`);
      assert.ok(edges.every((e) => e.tMs >= t0 - 1 && e.tMs <= t1 + 1), `edge times on the process clock: ${t0} <= ${edges.map((e) => e.tMs).join(", ")} <= ${t1}`);
      assert.ok(edges[1]!.tMs >= edges[0]!.tMs);

      if (u.missing !== undefined) {
        await rejectsCoded(() => g.output({ name: "nope", pin: u.missing, activeLow: false, initial: false, safe: false }), ["E_GPIO_LINE"], "a pin the chip lacks");
      }
      await g.close();
      await g.close();
    } finally {
      await u.cleanup();
    }
  });
}
