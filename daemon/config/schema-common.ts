import { z } from "zod";

// Pieces every section's schema is made of.

export const ms = (max: number) => z.number().int().min(0).max(max);
export const positiveMs = (max: number) => z.number().int().min(1).max(max);
export const identifier = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9_-]+$/, "only letters, digits, '-' and '_' (it becomes part of MQTT topics)");

/** A secret: `file:/path`, `credential:NAME` (systemd LoadCredential=) or `env:VAR`. */
export const secretRef = z
  .string()
  .regex(/^(file:.+|credential:[A-Za-z0-9_.-]+|env:[A-Za-z_][A-Za-z0-9_]*)$/, "must be file:/path, credential:NAME or env:VAR");


/** sysfs gpio number (onoff), or line offset / line name on the chip (gpiod); simulated lines need none. */
export const pin = z.union([z.number().int().min(0).max(100_000), z.string().min(1).max(64)]);

export const inputLine = z
  .object({
    name: identifier,
    pin: pin.optional(),
    active_low: z.boolean().default(false),
  })
  .strict();

