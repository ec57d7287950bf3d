import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { nowMs, sleep } from "../../../daemon/util/clock.js";
import { SimChip, type SimLine } from "./gpio-sim.js";
import { Sampler, intervals, type Level } from "./sampler.js";
import { startDaemon, THROW_ON_SIGUSR2 } from "./daemon.js";

// The daemon with `gpio.type: gpiod` (the GPIO character device, uAPI v2)
// against gpio-sim: inputs are driven through each sim line's pull, outputs
// are judged by the levels the sim lines showed, sampled with their times.
// TCG is slow and the host is shared: counts are exact, times have wide bounds.
const NAMES = ["reject", "photo-eye", "encoder", "bin-full", "line-stop", "reject-seen", "spare6", "spare7"];
const TRAVEL_MS = 1500;
const WINDOW_MS = 150;
const PULSE_MS = 80;
// How late a level change may be seen: the sampler and the reject thread are
// threads on two emulated CPUs of a host that other work shares.
const LATE_MS = 400;
const CONFIRM_WITHIN_MS = 1000;

function config(chip: SimChip, extra = ""): string {
  return `line: { mode: triggered, travel_ms: ${TRAVEL_MS}, frame_tolerance_ms: 200, decision_margin_ms: 20 }
trigger: { type: gpio, input: { name: photo-eye, pin: photo-eye }, edge: rising, debounce_ms: 2 }
camera: { type: synthetic, width: 160, height: 120, fps: 30, seed: 3, defect_rate: 0.5 }
engine: { type: simulated, latency_ms: 2, error_rate: 0 }
http: { enabled: false }
lifecycle: { progress_report_ms: 200 }
actuation:
  gpio: { type: gpiod, chip: ${chip.label} }
  reject: { name: reject, pin: 0 }
  pulse_ms: ${PULSE_MS}
  window_ms: ${WINDOW_MS}
  bin_full: { name: bin-full, pin: bin-full }
  line_stop: { name: line-stop, pin: 4 }
${extra}`;
}

/** Pulses (1 then 0) one line showed. */
function pulses(levels: Level[], line: string, endMs: number): Array<{ on: number; off: number }> {
  return intervals(levels, line, endMs)
    .filter((i) => i.value === 1)
    .map((i) => ({ on: i.from, off: i.to }));
}

async function edges(line: { pull(high: boolean): number }, n: number, periodMs: number, highMs: number, times: number[] = []): Promise<number[]> {
  for (let i = 0; i < n; i++) {
    const t0 = nowMs();
    times.push(line.pull(true));
    await sleep(highMs);
    line.pull(false);
    await sleep(Math.max(0, periodMs - (nowMs() - t0)));
  }
  return times;
}

/**
 * The bin sensor: sees the part of every other trigger land, 200 ms after
 * that part's pulse is due. Its edges' times are kept, so which pulses it
 * confirmed is judged afterwards from what the lines showed.
 */
function binSensor(seen: SimLine, triggers: number[]): Promise<number[]> {
  return Promise.all(
    triggers
      .filter((_, i) => i % 2 === 0)
      .map(
        (t) =>
          new Promise<number>((resolve) =>
            setTimeout(() => {
              const at = seen.pull(true);
              setTimeout(() => {
                seen.pull(false);
                resolve(at);
              }, 20);
            }, Math.max(0, t + TRAVEL_MS + 200 - nowMs())),
          ),
      ),
  );
}

test("gpiod on gpio-sim: photo-eye edges make exactly that many parts, reject pulses at trigger + travel with their width, reject-confirm, bin-full stops the line, SIGTERM leaves outputs safe", async (t) => {
  const chip = SimChip.create("line", NAMES);
  t.after(() => chip.remove());
  // line-stop pulled up: once released by the daemon the sim line reads 1, so a 0 before that is the daemon's safe level.
  chip.line("line-stop").pull(true);
  const sampler = await Sampler.start(["reject", "line-stop"].map((n) => chip.line(n)));
  const d = startDaemon(config(chip, `  confirm: { input: { name: reject-seen, pin: reject-seen }, within_ms: ${CONFIRM_WITHIN_MS} }\n`));
  await d.waitFor(/READY/);
  const N = 12;
  const triggers: number[] = [];
  const sensor = edges(chip.line("photo-eye"), N, 300, 30, triggers);
  const confirms = await binSensor(chip.line("reject-seen"), await sensor);
  await sleep(CONFIRM_WITHIN_MS + 1000);
  const fullAt = chip.line("bin-full").pull(true);
  await sleep(1500);
  const clearAt = chip.line("bin-full").pull(false);
  await sleep(1500);
  const fullAgainAt = chip.line("bin-full").pull(true);
  await sleep(1500);
  const termAt = nowMs();
  d.child.kill("SIGTERM");
  const exit = await d.exited;
  const endAt = nowMs();
  const levels = await sampler.finish();
  assert.equal(exit.code, 0, d.output().slice(-3000));
  const s = d.summary();

  await t.test("every photo-eye edge is one part, and the books balance", () => {
    assert.equal(s.triggered, N, JSON.stringify(s));
    assert.equal(s.in_flight, 0);
    assert.equal(s.accepted + s.rejected, N);
    assert.ok(s.rejected > 0 && s.accepted > 0, JSON.stringify(s));
  });

  await t.test("the reject line showed one pulse per rejected part, each at its trigger + travel and of its width", () => {
    const p = pulses(levels, "reject", endAt);
    assert.equal(p.length, s.rejected, `pulses ${JSON.stringify(p)} vs ${JSON.stringify(s)}`);
    for (const x of p) {
      const trig = triggers.filter((tt) => tt <= x.on - TRAVEL_MS + 15).at(-1);
      assert.ok(trig !== undefined, `pulse at ${x.on} has no trigger before it`);
      const delay = x.on - trig;
      assert.ok(delay >= TRAVEL_MS - 15 && delay <= TRAVEL_MS + WINDOW_MS + LATE_MS, `pulse ${delay.toFixed(1)} ms after its trigger (travel ${TRAVEL_MS})`);
      const w = x.off - x.on;
      assert.ok(w >= PULSE_MS / 2 && w <= PULSE_MS + LATE_MS, `pulse ${w.toFixed(1)} ms wide (${PULSE_MS} configured)`);
    }
    // Pulses belong to distinct triggers.
    const owners = p.map((x) => triggers.filter((tt) => tt <= x.on - TRAVEL_MS + 15).at(-1));
    assert.equal(new Set(owners).size, p.length);
  });

  await t.test("pulses the bin sensor confirmed raised nothing, each one it missed raised reject-unconfirmed", () => {
    const p = pulses(levels, "reject", endAt);
    const unconfirmed = p.filter((x) => !confirms.some((c) => c >= x.on - 5 && c <= x.on + CONFIRM_WITHIN_MS));
    assert.ok(unconfirmed.length > 0 && unconfirmed.length < p.length, `${unconfirmed.length} of ${p.length} pulses unconfirmed`);
    const alarms = (d.output().match(/no confirmation from 'reject'/g) ?? []).length;
    assert.equal(alarms, unconfirmed.length, `${alarms} alarms for ${p.length} pulses, ${p.length - unconfirmed.length} confirmed`);
  });

  await t.test("bin-full energises line-stop while the bin is full and releases it when clear", () => {
    const ls = intervals(levels, "line-stop", endAt).filter((i) => i.from < termAt);
    const show = JSON.stringify({ ls, fullAt, clearAt, fullAgainAt, termAt });
    // From READY to the first full bin the line runs (line-stop at its safe level); then one change per bin-full change, after it.
    assert.equal(ls.filter((i) => i.from <= triggers[0]!).at(-1)?.value, 0, show);
    assert.deepEqual(
      ls.filter((i) => i.from > fullAt).map((i) => i.value),
      [1, 0, 1],
      show,
    );
    const changes = ls.filter((i) => i.from > fullAt);
    assert.ok(changes[0]!.from < clearAt && changes[1]!.from > clearAt && changes[1]!.from < fullAgainAt && changes[2]!.from > fullAgainAt, show);
  });

  await t.test("after SIGTERM every output went to its safe level before the daemon let go of the lines", () => {
    const after = intervals(levels, "line-stop", endAt).filter((i) => i.to > termAt);
    // energised at SIGTERM, then safe (0), then released to the pull (1) as the process exits
    assert.deepEqual(after.map((i) => i.value).slice(0, 2), [1, 0], JSON.stringify(after));
    const rej = intervals(levels, "reject", endAt).filter((i) => i.to > termAt);
    assert.equal(rej[0]!.value, 0, JSON.stringify(rej));
  });
});

test("gpiod on gpio-sim: the encoder's edges are counted and place the reject pulse at the part's travel", async () => {
  const chip = SimChip.create("enc", NAMES);
  try {
    const sampler = await Sampler.start([chip.line("reject")]);
    const COUNTS = 60;
    const d = startDaemon(
      config(chip, `  tracking: { type: encoder, input: { name: encoder, pin: encoder }, counts_per_mm: 1, travel_mm: ${COUNTS}, decision_margin_mm: 10, window_mm: 20 }`).replace(
        "defect_rate: 0.5",
        "defect_rate: 1",
      ),
    );
    await d.waitFor(/READY/);
    const enc = chip.line("encoder");
    const trig = chip.line("photo-eye");
    const encTimes: number[] = [];
    const trigTimes: number[] = [];
    for (let i = 0; i < 4 * COUNTS; i++) {
      const part = i % COUNTS === 5 && trigTimes.length < 3;
      if (part) trigTimes.push(trig.pull(true));
      encTimes.push(enc.pull(true));
      await sleep(10);
      enc.pull(false);
      if (part) trig.pull(false);
      await sleep(10);
    }
    await sleep(1000);
    d.child.kill("SIGTERM");
    const exit = await d.exited;
    const levels = await sampler.finish();
    assert.equal(exit.code, 0, d.output().slice(-3000));
    const s = d.summary();
    assert.equal(s.triggered, 3, JSON.stringify(s));
    const p = pulses(levels, "reject", nowMs());
    assert.equal(p.length, s.rejected, JSON.stringify({ p, s }));
    assert.ok(p.length >= 2, JSON.stringify(s));
    for (const x of p) {
      const t0 = trigTimes.filter((tt) => tt < x.on).at(-1)!;
      // encoder counts between the part's trigger and its pulse: its travel, within the window
      const counted = encTimes.filter((e) => e > t0 && e <= x.on).length;
      assert.ok(counted >= COUNTS - 12 && counted <= COUNTS + 20 + 5, `pulse after ${counted} counts (travel ${COUNTS})`);
    }
  } finally {
    chip.remove();
  }
});

test("gpiod on gpio-sim: outputs safe after a second signal, a failed start and an uncaught exception", async (t) => {
  const chip = SimChip.create("safe", NAMES);
  t.after(() => chip.remove());
  chip.line("line-stop").pull(true);
  const energised = `  line_stop: { name: line-stop, pin: 4, initial: active }\n`;
  const cfg = config(chip).replace("  line_stop: { name: line-stop, pin: 4 }\n", energised);

  /** line-stop energised at the start, then 0 (safe) before the process let go (the pull reads 1 again). */
  function wentSafe(levels: Level[], from: number, endAt: number): void {
    const seq = intervals(levels, "line-stop", endAt).filter((i) => i.to > from).map((i) => i.value);
    assert.deepEqual(seq.slice(0, 3), [1, 0, 1], `line-stop levels after the fault: ${JSON.stringify(seq)}`);
  }

  await t.test("second signal: exit at once, outputs safe", async () => {
    const sampler = await Sampler.start([chip.line("line-stop")]);
    const d = startDaemon(cfg.replace(`travel_ms: ${TRAVEL_MS}`, "travel_ms: 20000"));
    await d.waitFor(/READY/);
    await edges(chip.line("photo-eye"), 2, 100, 20);
    const at = nowMs();
    d.child.kill("SIGINT");
    await d.waitFor(/stopping/);
    d.child.kill("SIGINT");
    const exit = await d.exited;
    const levels = await sampler.finish();
    assert.equal(exit.code, 130, d.output().slice(-2000));
    wentSafe(levels, at, nowMs());
  });

  await t.test("failed start: outputs safe, a clear error, exit 1", async () => {
    const sampler = await Sampler.start([chip.line("line-stop")]);
    const d = startDaemon(cfg.replace("camera: { type: synthetic, width: 160, height: 120, fps: 30, seed: 3, defect_rate: 0.5 }", "camera: { type: v4l2, device: /dev/video63 }"));
    const at = nowMs();
    const exit = await d.exited;
    const levels = await sampler.finish();
    assert.equal(exit.code, 1, d.output().slice(-2000));
    assert.match(d.output(), /E_CAMERA|video63/);
    wentSafe(levels, at, nowMs());
  });

  await t.test("uncaught exception: outputs safe, exit 1", async () => {
    const sampler = await Sampler.start([chip.line("line-stop")]);
    const d = startDaemon(cfg, { preload: THROW_ON_SIGUSR2 });
    await d.waitFor(/READY/);
    const at = nowMs();
    d.child.kill("SIGUSR2");
    const exit = await d.exited;
    const levels = await sampler.finish();
    assert.equal(exit.code, 1, d.output().slice(-2000));
    assert.match(d.output(), /uncaught error: outputs safe/);
    wentSafe(levels, at, nowMs());
  });
});

test("gpiod on gpio-sim: a line held by another process is a clear error naming its holder, and nothing is driven", async () => {
  const chip = SimChip.create("busy", NAMES);
  try {
    // gpioset (libgpiod 1.6) in signal mode holds the line until killed.
    const holder = spawn("gpioset", ["--mode=signal", chip.chipName, "0=0"], { stdio: "ignore" });
    try {
      await sleep(500);
      const d = startDaemon(config(chip));
      const exit = await d.exited;
      assert.equal(exit.code, 1, d.output().slice(-2000));
      assert.match(d.output(), /E_GPIO_BUSY/);
      assert.match(d.output(), /line 'reject' \(offset 0\) on gpiochip\d+ is already held by 'gpioset'/);
    } finally {
      holder.kill();
    }
  } finally {
    chip.remove();
  }
});

test("gpiod: a line name the chip does not have is a clear error listing the names it has", async () => {
  const chip = SimChip.create("names", NAMES);
  try {
    const d = startDaemon(config(chip).replace("pin: bin-full", "pin: bin-fill"));
    assert.equal((await d.exited).code, 1);
    assert.match(d.output(), /E_GPIO_LINE/);
    assert.match(d.output(), /no line named 'bin-fill' on gpiochip\d+ \(named lines: reject, photo-eye/);
  } finally {
    chip.remove();
  }
});
