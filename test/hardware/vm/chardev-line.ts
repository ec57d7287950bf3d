import assert from "node:assert/strict";
import { nowMs, sleep } from "../../../daemon/util/clock.js";
import type { SimChip, SimLine } from "./gpio-sim.js";
import type { Level } from "./gpio-trace.js";

// What the gpiod tests (chardev*.vm.ts) share: the sim chip's lines, the
// line's config and the ways they drive inputs and read outputs. The VM is
// TCG-emulated on a shared host, where the daemon's threads are starved for
// hundreds of ms: counts are exact, times have wide bounds.
export const NAMES = ["reject", "photo-eye", "encoder", "bin-full", "line-stop", "reject-seen", "spare6", "spare7"];
export const TRAVEL_MS = 1500;
export const WINDOW_MS = 150;
export const PULSE_MS = 80;
/** How late a starved reject thread may start or end a pulse here. */
export const LATE_MS = 450;

/** Reject on offset 0, every other line by name; `extra` is more of the actuation section. */
export function config(chip: SimChip, extra = ""): string {
  return `line: { mode: triggered, travel_ms: ${TRAVEL_MS}, frame_tolerance_ms: 300, decision_margin_ms: 20 }
trigger: { type: gpio, input: { name: photo-eye, pin: photo-eye }, edge: rising, debounce_ms: 2 }
camera: { type: synthetic, width: 160, height: 120, fps: 10, seed: 3, defect_rate: 0.5 }
engine: { type: simulated, latency_ms: 2, error_rate: 0 }
http: { enabled: false }
lifecycle: { progress_report_ms: 1000 }
actuation:
  gpio: { type: gpiod, chip: ${chip.label} }
  reject: { name: reject, pin: 0 }
  pulse_ms: ${PULSE_MS}
  window_ms: ${WINDOW_MS}
  bin_full: { name: bin-full, pin: bin-full }
  line_stop: { name: line-stop, pin: 4 }
${extra}`;
}

/** The same line with line-stop energised from the start, so that going safe shows on it. */
export function energised(config: string): string {
  return config.replace("  line_stop: { name: line-stop, pin: 4 }\n", "  line_stop: { name: line-stop, pin: 4, initial: active }\n");
}

/** `n` pulses `highMs` wide every `periodMs` on an input; returns when each began. */
export async function edges(line: SimLine, n: number, periodMs: number, highMs: number): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = nowMs();
    times.push(line.pull(true));
    await sleep(highMs);
    line.pull(false);
    await sleep(Math.max(0, periodMs - (nowMs() - t0)));
  }
  return times;
}

/** Values one line was driven to after `from`. */
export function after(levels: Level[], line: string, from: number): Array<0 | 1> {
  return levels.filter((l) => l.line === line && l.tMs > from).map((l) => l.value);
}

/** line-stop was requested energised, then driven to 0 (safe) after the fault at `from`, and never energised again. */
export function wentSafe(levels: Level[], from: number): void {
  const ls = levels.filter((l) => l.line === "line-stop");
  assert.equal(ls[0]?.value, 1, `line-stop not energised at start: ${JSON.stringify(ls)}`);
  const later = after(levels, "line-stop", from);
  assert.ok(later.length > 0 && later.every((v) => v === 0), `line-stop after the fault: ${JSON.stringify(later)}`);
}
