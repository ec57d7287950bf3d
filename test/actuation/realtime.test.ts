import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import pino from "pino";
import { LineActuation } from "../../daemon/actuation/line-actuation.js";
import { SimulatedGpio } from "../../daemon/actuation/simulated-gpio.js";
import { lineConfig, BASE_YAML } from "../fakes/line.js";

/** Scheduling classes of this process's threads, as ps reports them (TS, FF, ...). */
function threadClasses(): string[] {
  return execFileSync("ps", ["-L", "-o", "cls=", "-p", String(process.pid)], { encoding: "utf8" }).split("\n").map((s) => s.trim()).filter(Boolean);
}

test("actuation.realtime_priority puts the reject core's thread, and only it, under SCHED_FIFO (or says why not)", async () => {
  const lines: string[] = [];
  const log = pino({ level: "warn" }, { write: (s: string) => lines.push(s) });
  const config = lineConfig(BASE_YAML.replace("actuation: { window_ms: 100 }", "actuation: { window_ms: 100, realtime_priority: 10 }"));
  assert.equal(config.actuation.realtime_priority, 10);
  const before = threadClasses().filter((c) => c === "FF").length;
  const act = new LineActuation(config, new SimulatedGpio(), () => "test", () => undefined, log);
  await act.start();
  try {
    const fifo = threadClasses().filter((c) => c === "FF").length - before;
    if (process.getuid?.() === 0) {
      assert.equal(fifo, 1, `thread classes: ${threadClasses().join(" ")}`);
    } else {
      // Without CAP_SYS_NICE the line still runs; the log says why the thread stayed normal.
      assert.equal(fifo, 0);
      assert.ok(lines.some((l) => l.includes("E_RT_PRIORITY")), lines.join(""));
    }
  } finally {
    await act.stop();
  }
});
