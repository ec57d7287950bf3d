import { test } from "node:test";
import assert from "node:assert/strict";
import { nowMs, sleep } from "../../../daemon/util/clock.js";
import { SimChip } from "./gpio-sim.js";
import { GpioTrace, GpioWatch, pulses } from "./gpio-trace.js";
import { startDaemon, THROW_ON_SIGUSR2 } from "./daemon.js";
import { after, config, edges, energised, LATE_MS, NAMES, PULSE_MS, TRAVEL_MS, WINDOW_MS, wentSafe } from "./chardev-line.js";

// The daemon with `gpio.type: gpiod` (the GPIO character device, uAPI v2)
// against gpio-sim, running a line: inputs are driven through each sim line's
// pull (the kernel stamps their edges), outputs are judged by what the
// kernel's GPIO core drove the lines to (gpio-trace.ts).
const PERIOD_MS = 1000;
const CONFIRM_WITHIN_MS = 1000;

/**
 * The bin sensor: sees the part of every other reject pulse land, 200 ms after
 * the pulse began, reacting to the reject line as the kernel drove it.
 * stop() gives the times it saw each part land.
 */
function binSensor(chip: SimChip): { stop(): Promise<number[]> } {
  const seen = chip.line("reject-seen");
  const landed: Array<Promise<number>> = [];
  let pulses = 0;
  const watch = GpioWatch.start(chip.numbers(), (l) => {
    if (l.line !== "reject" || l.value !== 1 || pulses++ % 2 !== 0) return;
    landed.push(
      new Promise((resolve) =>
        setTimeout(
          () => {
            const at = seen.pull(true);
            setTimeout(() => {
              seen.pull(false);
              resolve(at);
            }, 20);
          },
          Math.max(0, l.tMs + 200 - nowMs()),
        ),
      ),
    );
  });
  return {
    stop: async () => {
      await watch.stop();
      return Promise.all(landed);
    },
  };
}

test("gpiod on gpio-sim: photo-eye edges make exactly that many parts, reject pulses at trigger + travel with their width, reject-confirm, bin-full stops the line, SIGTERM leaves outputs safe", async (t) => {
  const chip = SimChip.create("line", NAMES);
  t.after(() => chip.remove());
  const trace = GpioTrace.start(chip.numbers());
  const d = startDaemon(config(chip, `  confirm: { input: { name: reject-seen, pin: reject-seen }, within_ms: ${CONFIRM_WITHIN_MS} }\n`));
  await d.waitFor(/READY/);
  const N = 12;
  const sensor = binSensor(chip);
  const triggers = await edges(chip.line("photo-eye"), N, PERIOD_MS, 30);
  // The last part's pulse, its landing and its confirmation window.
  await sleep(TRAVEL_MS + CONFIRM_WITHIN_MS + 500);
  const confirms = await sensor.stop();
  const fullAt = chip.line("bin-full").pull(true);
  await sleep(1500);
  const clearAt = chip.line("bin-full").pull(false);
  await sleep(1500);
  const fullAgainAt = chip.line("bin-full").pull(true);
  await sleep(1500);
  const termAt = nowMs();
  d.child.kill("SIGTERM");
  const exit = await d.exited;
  const levels = trace.stop();
  assert.equal(exit.code, 0, d.output().slice(-3000));
  const s = d.summary();
  const p = pulses(levels, "reject");

  await t.test("every photo-eye edge is one part, and the books balance", () => {
    assert.equal(s.triggered, N, JSON.stringify(s));
    assert.equal(s.in_flight, 0);
    assert.equal(s.accepted + s.rejected, N);
    assert.ok(s.rejected > 0 && s.accepted > 0, JSON.stringify(s));
  });

  await t.test("the reject line was driven through one pulse per rejected part, each at its trigger + travel and of its width", () => {
    assert.equal(p.length, s.rejected, `pulses ${JSON.stringify(p)} vs ${JSON.stringify(s)}`);
    const owners = p.map((x) => {
      // Triggers are PERIOD_MS apart, more than a pulse's whole window: each pulse has one.
      const trig = triggers.find((tt) => x.on - tt >= TRAVEL_MS - 15 && x.on - tt <= TRAVEL_MS + WINDOW_MS + LATE_MS);
      assert.ok(trig !== undefined, `pulse at ${x.on.toFixed(1)} is not at any trigger + ${TRAVEL_MS} ms: ${JSON.stringify(triggers)}`);
      const w = x.off - x.on;
      assert.ok(w >= PULSE_MS - 5 && w <= PULSE_MS + LATE_MS, `pulse ${w.toFixed(1)} ms wide (${PULSE_MS} configured)`);
      return trig;
    });
    assert.equal(new Set(owners).size, p.length, "two pulses for one part");
  });

  await t.test("pulses the bin sensor confirmed raised nothing, each one it missed raised reject-unconfirmed", () => {
    const unconfirmed = p.filter((x) => !confirms.some((c) => c >= x.on && c <= x.on + CONFIRM_WITHIN_MS));
    assert.ok(unconfirmed.length < p.length, `${unconfirmed.length} of ${p.length} pulses unconfirmed`);
    const alarms = (d.output().match(/no confirmation from 'reject'/g) ?? []).length;
    assert.equal(alarms, unconfirmed.length, `${alarms} alarms for ${p.length} pulses, ${p.length - unconfirmed.length} confirmed`);
  });

  await t.test("bin-full energises line-stop while the bin is full and releases it when clear", () => {
    const ls = levels.filter((l) => l.line === "line-stop");
    const show = JSON.stringify({ ls, fullAt, clearAt, fullAgainAt, termAt });
    // Requested at its safe level; then one change per bin-full change, after it.
    assert.equal(ls[0]?.value, 0, show);
    assert.ok(ls[0]!.tMs < triggers[0]!, show);
    const changes = ls.filter((l) => l.tMs > fullAt && l.tMs < termAt);
    assert.deepEqual(changes.map((l) => l.value), [1, 0, 1], show);
    assert.ok(changes[0]!.tMs < clearAt && changes[1]!.tMs > clearAt && changes[1]!.tMs < fullAgainAt && changes[2]!.tMs > fullAgainAt, show);
  });

  await t.test("after SIGTERM, line-stop (energised then) was driven to its safe level before the daemon exited", () => {
    assert.deepEqual(after(levels, "line-stop", termAt).slice(0, 1), [0], JSON.stringify(levels.filter((l) => l.tMs > termAt)));
    assert.ok(!after(levels, "reject", termAt).includes(1), "no reject pulse after SIGTERM");
  });
});

test("gpiod on gpio-sim: the encoder's edges are counted and place each reject pulse at its part's travel; an uncaught exception then leaves the outputs safe", async (t) => {
  const chip = SimChip.create("enc", NAMES);
  t.after(() => chip.remove());
  const trace = GpioTrace.start(chip.numbers());
  const COUNTS = 60;
  const PARTS = 3;
  const tracking = `  tracking: { type: encoder, input: { name: encoder, pin: encoder }, counts_per_mm: 1, travel_mm: ${COUNTS}, decision_margin_mm: 10, window_mm: 20 }`;
  const d = startDaemon(energised(config(chip, tracking)).replace("defect_rate: 0.5", "defect_rate: 1"), { preload: THROW_ON_SIGUSR2 });
  await d.waitFor(/READY/);
  const enc = chip.line("encoder");
  const eye = chip.line("photo-eye");
  const encTimes: number[] = [];
  const eyeTimes: number[] = [];
  // The belt: an encoder edge every ~20 ms, a part every 1.5 travels (a pulse is never due at a trigger).
  for (let i = 0; i < PARTS * 90 + COUNTS; i++) {
    const part = i % 90 === 5 && eyeTimes.length < PARTS;
    if (part) eyeTimes.push(eye.pull(true));
    encTimes.push(enc.pull(true));
    await sleep(10);
    enc.pull(false);
    if (part) eye.pull(false);
    await sleep(10);
  }
  await sleep(1000);
  const faultAt = nowMs();
  d.child.kill("SIGUSR2");
  const exit = await d.exited;
  const levels = trace.stop();

  await t.test("every part (each one defective) got one reject pulse, after its travel in encoder counts", () => {
    const p = pulses(levels, "reject").filter((x) => x.on < faultAt);
    assert.equal(p.length, PARTS, JSON.stringify({ p, eyeTimes, log: d.output().slice(-2000) }));
    p.forEach((x, k) => {
      // every part is rejected: the k-th pulse is the k-th part's
      const counted = encTimes.filter((e) => e > eyeTimes[k]! && e <= x.on).length;
      assert.ok(counted >= COUNTS - 10 && counted <= COUNTS + 20 + 5, `part ${k}: pulse after ${counted} counts (travel ${COUNTS})`);
    });
  });

  await t.test("uncaught exception: outputs safe, exit 1", () => {
    assert.equal(exit.code, 1, d.output().slice(-2000));
    assert.match(d.output(), /uncaught error: outputs safe/);
    wentSafe(levels, faultAt);
  });
});
