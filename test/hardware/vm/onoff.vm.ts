import { test } from "node:test";
import assert from "node:assert/strict";
import { nowMs, sleep } from "../../../daemon/util/clock.js";
import { SimChip } from "./gpio-sim.js";
import { Sampler, intervals } from "./sampler.js";
import { startDaemon } from "./daemon.js";

// The daemon with `gpio.type: onoff` (sysfs, /sys/class/gpio) on a gpio-sim
// chip: real edges through epoll, which a tmpfs tree cannot give. sysfs
// numbers are dynamic, so pins are the chip's base + offset.
const TRAVEL_MS = 400;
const PULSE_MS = 30;
const WINDOW_MS = 150;

test("onoff on gpio-sim: photo-eye edges through sysfs make exactly that many parts, and reject pulses reach the line", async (t) => {
  const chip = SimChip.create("sysfs", ["reject", "photo-eye", "encoder"]);
  t.after(() => chip.remove());
  const base = chip.sysfsBase();
  const sampler = new Sampler([chip.line("reject")]);
  const d = startDaemon(`line: { mode: triggered, travel_ms: ${TRAVEL_MS}, frame_tolerance_ms: 200, decision_margin_ms: 20 }
trigger: { type: gpio, input: { name: photo-eye, pin: ${base + 1} }, edge: rising, debounce_ms: 2 }
camera: { type: synthetic, width: 160, height: 120, fps: 30, seed: 4, defect_rate: 0.5 }
engine: { type: simulated, latency_ms: 2, error_rate: 0 }
http: { enabled: false }
actuation:
  gpio: { type: onoff }
  reject: { name: reject, pin: ${base} }
  pulse_ms: ${PULSE_MS}
  window_ms: ${WINDOW_MS}
`);
  await d.waitFor(/READY/);
  const eye = chip.line("photo-eye");
  const N = 12;
  const triggers: number[] = [];
  for (let i = 0; i < N; i++) {
    triggers.push(eye.pull(true));
    await sleep(30);
    eye.pull(false);
    await sleep(130);
  }
  await sleep(TRAVEL_MS + WINDOW_MS + 1000);
  d.child.kill("SIGTERM");
  const exit = await d.exited;
  const levels = await sampler.finish();
  assert.equal(exit.code, 0, d.output().slice(-3000));
  const s = d.summary();
  assert.equal(s.triggered, N, JSON.stringify(s));
  assert.equal(s.accepted + s.rejected, N);
  const p = intervals(levels, "reject", nowMs()).filter((i) => i.value === 1);
  assert.equal(p.length, s.rejected, JSON.stringify({ p, s }));
  for (const x of p) {
    const trig = triggers.filter((tt) => tt <= x.from - TRAVEL_MS + 15).at(-1)!;
    const delay = x.from - trig;
    assert.ok(delay >= TRAVEL_MS - 15 && delay <= TRAVEL_MS + WINDOW_MS + 80, `pulse ${delay.toFixed(1)} ms after its trigger`);
    assert.ok(x.to - x.from >= PULSE_MS / 2 && x.to - x.from <= PULSE_MS + 80, `pulse ${(x.to - x.from).toFixed(1)} ms wide`);
  }
});

test("onoff on gpio-sim: encoder edges through sysfs are counted and place the pulse at the part's travel", async (t) => {
  const chip = SimChip.create("sysenc", ["reject", "photo-eye", "encoder"]);
  t.after(() => chip.remove());
  const base = chip.sysfsBase();
  const sampler = new Sampler([chip.line("reject")]);
  const COUNTS = 60;
  const d = startDaemon(`line: { mode: triggered, travel_ms: 400, frame_tolerance_ms: 200, decision_margin_ms: 20 }
trigger: { type: gpio, input: { name: photo-eye, pin: ${base + 1} }, edge: rising, debounce_ms: 2 }
camera: { type: synthetic, width: 160, height: 120, fps: 30, seed: 4, defect_rate: 1 }
engine: { type: simulated, latency_ms: 2, error_rate: 0 }
http: { enabled: false }
actuation:
  gpio: { type: onoff }
  reject: { name: reject, pin: ${base} }
  pulse_ms: ${PULSE_MS}
  window_ms: ${WINDOW_MS}
  tracking: { type: encoder, input: { name: encoder, pin: ${base + 2} }, counts_per_mm: 1, travel_mm: ${COUNTS}, decision_margin_mm: 10, window_mm: 20 }
`);
  await d.waitFor(/READY/);
  const enc = chip.line("encoder");
  const trig = chip.line("photo-eye");
  const encTimes: number[] = [];
  const trigTimes: number[] = [];
  for (let i = 0; i < 3 * COUNTS; i++) {
    if (i % COUNTS === 5) trigTimes.push(trig.pull(true));
    encTimes.push(enc.pull(true));
    await sleep(4);
    enc.pull(false);
    if (i % COUNTS === 5) trig.pull(false);
    await sleep(4);
  }
  await sleep(1000);
  d.child.kill("SIGTERM");
  const exit = await d.exited;
  const levels = await sampler.finish();
  assert.equal(exit.code, 0, d.output().slice(-3000));
  const s = d.summary();
  assert.equal(s.triggered, 3, JSON.stringify(s));
  const p = intervals(levels, "reject", nowMs()).filter((i) => i.value === 1);
  assert.equal(p.length, s.rejected, JSON.stringify({ p, s }));
  assert.ok(p.length >= 2, JSON.stringify(s));
  for (const x of p) {
    const t0 = trigTimes.filter((tt) => tt < x.from).at(-1)!;
    const counted = encTimes.filter((e) => e > t0 && e <= x.from).length;
    assert.ok(counted >= COUNTS - 12 && counted <= COUNTS + 25, `pulse after ${counted} counts (travel ${COUNTS})`);
  }
});
