import { test } from "node:test";
import assert from "node:assert/strict";
import { sleep } from "../../../daemon/util/clock.js";
import { SimChip } from "./gpio-sim.js";
import { GpioTrace, pulses } from "./gpio-trace.js";
import { startDaemon } from "./daemon.js";

// The daemon with `gpio.type: onoff` (sysfs, /sys/class/gpio) on a gpio-sim
// chip: real edges through epoll, which a tmpfs tree cannot give. sysfs
// numbers are dynamic, so pins are the chip's base + offset.
const PULSE_MS = 80;
const COUNTS = 60;
const PARTS = 3;

test("onoff on gpio-sim: photo-eye and encoder edges through sysfs; one part per photo-eye edge, each reject pulse at the part's encoder travel", async (t) => {
  const chip = SimChip.create("sysfs", ["reject", "photo-eye", "encoder"]);
  t.after(() => chip.remove());
  const base = chip.sysfsBase();
  const trace = GpioTrace.start(chip.numbers());
  const d = startDaemon(`line: { mode: triggered, travel_ms: 1500, frame_tolerance_ms: 300, decision_margin_ms: 20 }
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
`);
  await d.waitFor(/READY/);
  const enc = chip.line("encoder");
  const eye = chip.line("photo-eye");
  const encTimes: number[] = [];
  const eyeTimes: number[] = [];
  // The belt: an encoder edge every ~20 ms, a part every 1.5 travels (a pulse is never due at a trigger).
  // The photo-eye stays covered for 40 counts: sysfs reports levels, not edges,
  // so a pulse over before the starved loop reads it would be lost (a real limit of onoff).
  for (let i = 0; i < PARTS * 90 + COUNTS; i++) {
    if (i % 90 === 5 && eyeTimes.length < PARTS) eyeTimes.push(eye.pull(true));
    if (i % 90 === 45) eye.pull(false);
    encTimes.push(enc.pull(true));
    await sleep(10);
    enc.pull(false);
    await sleep(10);
  }
  await sleep(1000);
  d.child.kill("SIGTERM");
  const exit = await d.exited;
  const levels = trace.stop();
  assert.equal(exit.code, 0, d.output().slice(-3000));
  const s = d.summary();

  await t.test("every photo-eye edge is one part", () => {
    assert.equal(s.triggered, PARTS, JSON.stringify(s));
    assert.equal(s.accepted + s.rejected, PARTS);
    assert.equal(s.in_flight, 0);
  });

  await t.test("every rejected part's pulse came after its travel in encoder counts, of its width", () => {
    const p = pulses(levels, "reject");
    assert.equal(s.rejected, PARTS, JSON.stringify(s));
    assert.equal(p.length, PARTS, JSON.stringify({ p, s }));
    p.forEach((x, k) => {
      // every part is rejected: the k-th pulse is the k-th part's
      const counted = encTimes.filter((e) => e > eyeTimes[k]! && e <= x.on).length;
      assert.ok(counted >= COUNTS - 10 && counted <= COUNTS + 25, `part ${k}: pulse after ${counted} counts (travel ${COUNTS})`);
      assert.ok(x.off - x.on >= PULSE_MS - 5 && x.off - x.on <= PULSE_MS + 450, `part ${k}: pulse ${(x.off - x.on).toFixed(1)} ms wide`);
    });
  });
});
