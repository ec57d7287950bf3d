import { z } from "zod";
import { identifier, inputLine, ms, pin, positiveMs } from "./schema-common.js";

// The actuation section: GPIO driver and lines, tracking, reject stations, sensors, line stop.

const gpioLine = z
  .object({
    name: identifier,
    pin: pin.optional(),
    active_low: z.boolean().default(false),
    /** The de-energised state, taken at stop, on errors and signals. */
    safe: z.enum(["inactive", "active"]).default("inactive"),
    initial: z.enum(["safe", "inactive", "active"]).default("safe"),
  })
  .strict();

const gpioDriver = z.discriminatedUnion("type", [
  z.object({ type: z.literal("simulated") }).strict(),
  z.object({ type: z.literal("onoff") }).strict(),
  z.object({ type: z.literal("gpiod"), chip: z.string().min(1).max(64).default("gpiochip0") }).strict(),
]);

const rejectConfirm = z
  .object({
    input: inputLine,
    within_ms: positiveMs(10_000).default(300),
  })
  .strict();

const bin = z
  .object({
    output: gpioLine,
    classes: z.array(identifier).min(1),
    travel_ms: positiveMs(60_000).optional(),
    travel_mm: z.number().positive().max(100_000).optional(),
    pulse_ms: positiveMs(2000).optional(),
    min_gap_ms: ms(2000).optional(),
    confirm: rejectConfirm.optional(),
    bin_full: inputLine.optional(),
  })
  .strict();

const tracking = z.discriminatedUnion("type", [
  z.object({ type: z.literal("time") }).strict(),
  z
    .object({
      type: z.literal("encoder"),
      input: inputLine,
      counts_per_mm: z.number().positive().max(1000),
      travel_mm: z.number().positive().max(100_000),
      decision_margin_mm: z.number().min(0).max(100_000).default(10),
      window_mm: z.number().min(0).max(1000).default(5),
    })
    .strict(),
]);

export const actuation = z
  .object({
    gpio: gpioDriver.default({ type: "simulated" }),
    tracking: tracking.default({ type: "time" }),
    reject: gpioLine.default({ name: "reject" }),
    pulse_ms: positiveMs(2000).default(15),
    min_gap_ms: ms(2000).default(5),
    window_ms: ms(1000).default(10),
    /** SCHED_FIFO priority of the reject core's thread, taken whenever the process may (CAP_SYS_NICE, root); 0: a normal thread. */
    realtime_priority: z.number().int().min(0).max(99).default(10),
    /** Longest the reject core wakes ahead of a deadline and spins the rest, so that a slow wake-up from idle lands before it; 0: it only sleeps. */
    wake_lead_max_ms: z.number().finite().min(0).max(20).default(2),
    confirm: rejectConfirm.optional(),
    bin_full: inputLine.optional(),
    line_stop: gpioLine.optional(),
    /** A part that could not be ejected: alarm only, or also energise line_stop until line_stop_reset is pressed (or a restart). */
    on_escape: z.enum(["alarm", "line-stop"]).default("alarm"),
    line_stop_reset: inputLine.optional(),
    bins: z.array(bin).max(15).default([]),
  })
  .strict();

