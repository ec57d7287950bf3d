import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { nowMs, sleep } from "../../../daemon/util/clock.js";
import { SimChip } from "./gpio-sim.js";
import { GpioTrace } from "./gpio-trace.js";
import { startDaemon } from "./daemon.js";
import { config, edges, energised, NAMES, TRAVEL_MS, wentSafe } from "./chardev-line.js";

// The daemon with `gpio.type: gpiod` against gpio-sim when things go wrong:
// a second signal, a start that fails after the outputs were requested, a
// line another process holds. Outputs are judged by what the kernel's GPIO
// core drove the lines to (gpio-trace.ts).

test("gpiod on gpio-sim: outputs safe after a second signal and a failed start", async (t) => {
  const chip = SimChip.create("safe", NAMES);
  t.after(() => chip.remove());
  const cfg = energised(config(chip));

  await t.test("second signal: exit at once, outputs safe", async () => {
    const trace = GpioTrace.start(chip.numbers());
    const d = startDaemon(cfg.replace(`travel_ms: ${TRAVEL_MS}`, "travel_ms: 20000"));
    await d.waitFor(/READY/);
    await edges(chip.line("photo-eye"), 2, 300, 30);
    const at = nowMs();
    d.child.kill("SIGINT");
    await d.waitFor(/stopping/);
    d.child.kill("SIGINT");
    const exit = await d.exited;
    const levels = trace.stop();
    assert.equal(exit.code, 130, d.output().slice(-2000));
    wentSafe(levels, at);
  });

  await t.test("failed start (a line name the chip lacks, asked for after line-stop was energised): a clear error listing the names it has, outputs safe, exit 1", async () => {
    const trace = GpioTrace.start(chip.numbers());
    // bin-full is requested when actuation starts, after line-stop (requested energised) and the reject core.
    const d = startDaemon(cfg.replace("pin: bin-full", "pin: bin-fill"));
    const exit = await d.exited;
    const levels = trace.stop();
    assert.equal(exit.code, 1, d.output().slice(-2000));
    assert.match(d.output(), /E_GPIO_LINE/);
    assert.match(d.output(), /no line named 'bin-fill' on gpiochip\d+ \(named lines: reject, photo-eye, encoder, bin-full, line-stop/);
    const on = levels.find((l) => l.line === "line-stop" && l.value === 1);
    assert.ok(on, JSON.stringify(levels));
    wentSafe(levels, on.tMs);
  });
});

test("gpiod on gpio-sim: a line held by another process is a clear error naming its holder, and nothing is driven", async () => {
  const chip = SimChip.create("busy", NAMES);
  try {
    // gpioset (libgpiod 1.6) in signal mode holds the line until killed.
    const holder = spawn("gpioset", ["--mode=signal", chip.chipName, "0=0"], { stdio: "ignore" });
    try {
      await sleep(1000);
      const trace = GpioTrace.start(chip.numbers());
      const d = startDaemon(config(chip));
      const exit = await d.exited;
      const levels = trace.stop();
      assert.equal(exit.code, 1, d.output().slice(-2000));
      assert.match(d.output(), /E_GPIO_BUSY/);
      assert.match(d.output(), /line 'reject' \(offset 0\) on gpiochip\d+ is already held by 'gpioset'/);
      assert.deepEqual(levels.filter((l) => l.line === "reject"), [], "the daemon drove a line it did not hold");
    } finally {
      holder.kill();
    }
  } finally {
    chip.remove();
  }
});
