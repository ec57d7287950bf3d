import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { nowMs, sleep } from "../../../daemon/util/clock.js";
import { SimChip, type SimLine } from "./gpio-sim.js";
import { GpioTrace, pulses } from "./gpio-trace.js";
import { startDaemon, STALL_ON_SIGUSR2 } from "./daemon.js";

// The daemon with `gpio.type: onoff` (sysfs, /sys/class/gpio) on a gpio-sim
// chip: real edges through epoll, which a tmpfs tree cannot give. sysfs
// numbers are dynamic, so pins are the chip's base + offset.
const PULSE_MS = 80;
const COUNTS = 60;
const PARTS = 3;
const STALL_MS = 5000;

/** The belt: an encoder edge every ~20 ms, for `counts` edges; returns their times. */
async function belt(enc: SimLine, counts: number, each?: (i: number) => void): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < counts; i++) {
    each?.(i);
    times.push(enc.pull(true));
    await sleep(10);
    enc.pull(false);
    await sleep(10);
  }
  return times;
}

async function until(what: string, cond: () => boolean, timeoutMs: number): Promise<void> {
  const t0 = nowMs();
  while (!cond()) {
    if (nowMs() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

test("onoff on gpio-sim: photo-eye and encoder edges through sysfs; one part per photo-eye edge, a photo-eye pulse over before a stalled daemon read the line included; each reject pulse at the part's encoder travel", async (t) => {
  const chip = SimChip.create("sysfs", ["reject", "photo-eye", "encoder"]);
  t.after(() => chip.remove());
  const base = chip.sysfsBase();
  const trace = GpioTrace.start(chip.numbers());
  const stallFile = `/tmp/ei-hw-stall-${process.pid}`;
  const d = startDaemon(
    `line: { mode: triggered, travel_ms: 1500, frame_tolerance_ms: 300, decision_margin_ms: 20 }
trigger: { type: gpio, input: { name: photo-eye, pin: ${base + 1} }, edge: rising, debounce_ms: 2 }
camera: { type: synthetic, width: 160, height: 120, fps: 10, seed: 4, defect_rate: 1 }
engine: { type: simulated, latency_ms: 2, error_rate: 0 }
http: { enabled: false }
actuation:
  gpio: { type: onoff }
  reject: { name: reject, pin: ${base} }
  pulse_ms: ${PULSE_MS}
  window_ms: 150
  tracking: { type: encoder, input: { name: encoder, pin: ${base + 2} }, counts_per_mm: 1, travel_mm: ${COUNTS}, decision_margin_mm: 10, window_mm: 20 }
`,
    { preload: STALL_ON_SIGUSR2, env: { EDGE_HW_STALL_FILE: stallFile, EDGE_HW_STALL_MS: String(STALL_MS) } },
  );
  await d.waitFor(/READY/);
  const enc = chip.line("encoder");
  const eye = chip.line("photo-eye");
  const eyeTimes: number[] = [];
  // A part every 1.5 travels (a pulse is never due at a trigger). The
  // photo-eye stays covered for 40 counts: a pulse the event loop reads while
  // it lasts is the plain case.
  const encTimes = await belt(enc, PARTS * 90 + COUNTS, (i) => {
    if (i % 90 === 5 && eyeTimes.length < PARTS) eyeTimes.push(eye.pull(true));
    if (i % 90 === 45) eye.pull(false);
  });
  // The belt stands while the daemon's main thread is blocked; a part passes
  // the photo-eye in that time, covering it for 200 ms only.
  d.child.kill("SIGUSR2");
  const stall = () => (existsSync(stallFile) ? readFileSync(stallFile, "utf8") : "");
  await until("the daemon's stall", () => stall() === "stalling", 60_000);
  const stalledOn = eye.pull(true);
  eyeTimes.push(stalledOn);
  await sleep(200);
  const stalledOff = eye.pull(false);
  assert.equal(stall(), "stalling", `the stall (${STALL_MS} ms) ended before the photo-eye pulse did: this machine is too slow for the test's premise`);
  await until("the stall's end", () => stall() === "done", 60_000);
  encTimes.push(...(await belt(enc, COUNTS + 30)));
  await sleep(1000);
  d.child.kill("SIGTERM");
  const exit = await d.exited;
  const levels = trace.stop();
  assert.equal(exit.code, 0, d.output().slice(-3000));
  const s = d.summary();
  const eyeReads = trace.reads.filter((r) => r.line === "photo-eye");
  const show = () => JSON.stringify({ s, eyeTimes, eyeReads: eyeReads.slice(-20), log: d.output().slice(-2000) });

  await t.test("every photo-eye edge is one part, the one the daemon never saw covered included", () => {
    // What the daemon read of the photo-eye: nothing while the short pulse lasted, then the line clear again.
    assert.deepEqual(eyeReads.filter((r) => r.tMs >= stalledOn && r.tMs <= stalledOff), [], show());
    assert.equal(eyeReads.find((r) => r.tMs > stalledOff)?.value, 0, show());
    assert.equal(s.triggered, PARTS + 1, show());
    assert.equal(s.accepted + s.rejected, PARTS + 1, show());
    assert.equal(s.in_flight, 0);
  });

  await t.test("every rejected part's pulse came after its travel in encoder counts, of its width", () => {
    const p = pulses(levels, "reject");
    assert.equal(s.rejected, PARTS + 1, show());
    assert.equal(p.length, PARTS + 1, JSON.stringify({ p, s }));
    p.forEach((x, k) => {
      // every part is rejected: the k-th pulse is the k-th part's
      const counted = encTimes.filter((e) => e > eyeTimes[k]! && e <= x.on).length;
      assert.ok(counted >= COUNTS - 10 && counted <= COUNTS + 25, `part ${k}: pulse after ${counted} counts (travel ${COUNTS})`);
      assert.ok(x.off - x.on >= PULSE_MS - 5 && x.off - x.on <= PULSE_MS + 450, `part ${k}: pulse ${(x.off - x.on).toFixed(1)} ms wide`);
    });
  });
});
