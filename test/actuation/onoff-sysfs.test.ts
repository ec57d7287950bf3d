import { test } from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { runInMountNamespace, unshareUnavailable, type LineFiles, type ValueChange } from "../fakes/fake-sysfs-gpio.js";

// The real onoff code against a fake sysfs tree (test/fakes/fake-sysfs-gpio.ts),
// in a private mount namespace per run. The emulator thread samples value
// files every 0.5 ms, but on a loaded 2-core machine it (and the scheduler
// thread) may be scheduled tens of ms late: bounds are wide, precision is
// measured in bench/actuation.ts.
const LATE = 100;
const CHILD = fileURLToPath(new URL("./sysfs-child.js", import.meta.url));
const REJECT = 17;
const skip = unshareUnavailable();

interface ChildOut {
  pulseMs: number;
  exported: number[];
  unexported: Record<string, LineFiles>;
  changes: ValueChange[];
}

async function child<T>(args: string[]): Promise<T & ChildOut> {
  const r = await runInMountNamespace(CHILD, args);
  assert.equal(r.code, 0, `child ${args.join(" ")} failed:\n${r.stderr}\n${r.stdout.slice(-2000)}`);
  return JSON.parse(r.stdout.trim().split("\n").at(-1)!) as T & ChildOut;
}

/** Pulses on one pin as the value file went 1 then 0. */
function pulses(changes: ValueChange[], pin: number): Array<{ on: number; off: number }> {
  const out: Array<{ on: number; off: number }> = [];
  for (const c of changes.filter((x) => x.pin === pin)) {
    if (c.value === "1") out.push({ on: c.tMs, off: NaN });
    else if (out.length > 0) out[out.length - 1]!.off = c.tMs;
  }
  return out;
}

function assertWidths(p: Array<{ on: number; off: number }>, width: number, exact: boolean): void {
  for (const x of p) {
    const w = x.off - x.on;
    assert.ok(w <= width + LATE, `pulse ${w.toFixed(1)} ms, longer than its ${width} ms`);
    // The emulator sees a write when its thread next samples, which a busy machine delays: only a pulse that
    // went off before it went on would be wrong here. The width itself is timed by the reject core on its own
    // clock (test/actuation/reject-timing.test.ts) and seen on a real kernel line in the hardware lane.
    if (exact) assert.ok(w > 0, `pulse ${w.toFixed(1)} ms: off before on`);
  }
}

test("onoff exports and configures the lines in sysfs and the reject scheduler's pulses set and clear value", { skip }, async () => {
  const out = await child<{ afterSetup: Record<string, LineFiles>; settled: Array<{ id: number; outcome: string; reason: string; tPulseMs?: number }> }>(["scheduler"]);
  assert.deepEqual(out.exported, [17, 18]);
  // The active-low reject line starts inactive: raw high, set with the direction in one write.
  assert.deepEqual(out.afterSetup[17], { direction: "high", value: "0", edge: "none", activeLow: "1" });
  assert.deepEqual(out.afterSetup[18], { direction: "low", value: "0", edge: "none", activeLow: "0" });
  const main = pulses(out.changes, 17);
  const bin = pulses(out.changes, 18);
  assert.deepEqual(
    out.settled.sort((a, b) => a.id - b.id).map((p) => [p.outcome, p.reason]),
    [
      ["rejected", "scratch"],
      ["accepted", "pass"],
      ["rejected", "crack"],
      ["rejected", "scratch"],
    ],
  );
  assert.equal(main.length, 2, JSON.stringify(out.changes));
  assert.equal(bin.length, 1, JSON.stringify(out.changes));
  assertWidths([...main, ...bin], out.pulseMs, true);
  // The file went to 1 when the scheduler says it fired (its reading right after the write).
  const fired = out.settled.filter((p) => p.reason === "scratch").map((p) => p.tPulseMs!);
  main.forEach((p, i) => assert.ok(Math.abs(p.on - fired[i]!) <= LATE, `value 1 seen ${(p.on - fired[i]!).toFixed(1)} ms from the pulse time`));
  // close() left both lines at their safe level and unexported them.
  assert.equal(out.unexported["17"]?.value, "0");
  assert.equal(out.unexported["18"]?.value, "0");
});

interface DaemonOut {
  code: number | null;
  signalledMs?: number;
  files?: LineFiles;
  stdout: string;
  stderr: string;
}

test("the daemon on onoff: SIGTERM mid-pulse finishes the pulse, stops and leaves the reject output safe", { skip }, async () => {
  const out = await child<DaemonOut>(["daemon", "term"]);
  assert.equal(out.code, 0, out.stderr + out.stdout);
  assert.match(out.stdout, /books balance/);
  assert.equal(out.unexported[String(REJECT)]?.value, "0", "reject line not at its safe level when unexported");
  const p = pulses(out.changes, REJECT);
  assert.ok(p.length >= 1 && p.every((x) => !Number.isNaN(x.off)), JSON.stringify(out.changes));
  assertWidths(p, out.pulseMs, true);
});

test("the daemon on onoff: a second SIGTERM mid-pulse takes the output safe at once and exits 130", { skip }, async () => {
  const out = await child<DaemonOut>(["daemon", "term-twice"]);
  assert.equal(out.code, 130, out.stderr + out.stdout);
  assert.match(out.stdout, /again: outputs safe, exiting now/);
  // The process exited without unexporting: the line stays exported at its safe level.
  assert.equal(out.files?.value, "0");
  const p = pulses(out.changes, REJECT);
  assert.ok(p.length >= 1 && p.every((x) => !Number.isNaN(x.off)), JSON.stringify(out.changes));
  assertWidths(p, out.pulseMs, false);
});

test("the daemon on onoff: an uncaught exception mid-pulse takes the output safe and exits 1", { skip }, async () => {
  const out = await child<DaemonOut>(["daemon", "crash"]);
  assert.equal(out.code, 1, out.stderr + out.stdout);
  assert.match(out.stdout, /injected fault.*uncaught error: outputs safe, exiting/);
  assert.equal(out.files?.value, "0", "reject line at its safe level after the crash");
  const p = pulses(out.changes, REJECT);
  assert.ok(p.length >= 1 && p.every((x) => !Number.isNaN(x.off)), JSON.stringify(out.changes));
  assertWidths(p, out.pulseMs, false);
});

test("the daemon on onoff: a part that fails after the outputs are live (photo-eye epoll refused) stops it with a coded error and outputs safe", { skip }, async () => {
  const out = await child<DaemonOut>(["daemon", "start-fails"]);
  assert.equal(out.code, 1, out.stderr + out.stdout);
  assert.match(out.stdout, /E_GPIO_LINE.*photo-eye.*cannot watch its edges/);
  assert.equal(out.files?.value, "0");
  assert.equal(pulses(out.changes, REJECT).length, 0);
});
