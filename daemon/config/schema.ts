import { z } from "zod";
import { identifier, inputLine, ms, positiveMs } from "./schema-common.js";
import { camera } from "./camera-schema.js";
import { actuation } from "./actuation-schema.js";
import { http, lifecycle, publish, records } from "./station-schema.js";

/**
 * The one configuration schema (its sections in camera-, actuation- and
 * station-schema.ts). Types are inferred from it; defaults live here
 * and nowhere else; unknown keys are errors (a typo must not silently fall back
 * to a default on a production line).
 */

const station = z
  .object({
    site: identifier.default("site"),
    line: identifier.default("line1"),
    device: identifier.default("station1"),
  })
  .strict();

const failsafe = z
  .object({
    action: z.enum(["reject", "accept"]).default("reject"),
  })
  .strict();

const line = z
  .object({
    mode: z.enum(["free-run", "triggered"]).default("free-run"),
    travel_ms: positiveMs(60_000).default(400),
    decision_margin_ms: ms(10_000).default(20),
    frame_tolerance_ms: positiveMs(10_000).default(50),
    first_frame_timeout_ms: positiveMs(600_000).default(10_000),
    max_in_flight: z.number().int().min(1).max(10_000).default(256),
    failsafe: failsafe.default({}),
  })
  .strict()
  .refine((l) => l.decision_margin_ms < l.travel_ms, {
    message: "decision_margin_ms must be smaller than travel_ms",
    path: ["decision_margin_ms"],
  });


const simulatedTrigger = z
  .object({
    type: z.literal("simulated"),
    rate_hz: z.number().min(0.1).max(1000).default(10),
    jitter_ms: ms(1000).default(0),
  })
  .strict();

const gpioTrigger = z
  .object({
    type: z.literal("gpio"),
    input: inputLine,
    edge: z.enum(["rising", "falling"]).default("rising"),
    debounce_ms: ms(1000).default(5),
  })
  .strict();

const trigger = z.discriminatedUnion("type", [simulatedTrigger, gpioTrigger]);

const simulatedEngine = z
  .object({
    type: z.literal("simulated"),
    labels: z.array(identifier).min(2).default(["ok", "scratch", "crack", "stain", "missing_hole"]),
    latency_ms: ms(10_000).default(8),
    error_rate: z.number().min(0).max(1).default(0.02),
    seed: z.number().int().min(0).default(7),
  })
  .strict();

/** A model package (docs/model-package.md) on onnxruntime-node. */
const onnxEngine = z
  .object({
    type: z.literal("onnx"),
    package: z.string().min(1),
    /** A variant named in the package's model.yaml; by default its default_variant. */
    variant: identifier.optional(),
    threads: z
      .object({
        /** 0: one per core, onnxruntime's choice. */
        intra_op: z.number().int().min(0).max(64).default(0),
        inter_op: z.number().int().min(0).max(64).default(1),
      })
      .strict()
      .default({}),
    /** Spinning threads answer sooner but burn CPU the line needs on a small board. */
    spinning: z.boolean().default(false),
    graph_optimization: z.enum(["disabled", "basic", "extended", "all"]).default("all"),
    /** Tried in order; the first the installed onnxruntime offers wins (logged at start). */
    providers: z.array(z.enum(["tensorrt", "cuda", "cpu"])).min(1).default(["tensorrt", "cuda", "cpu"]),
  })
  .strict();

/** A model package on TF.js. */
const tfjsEngine = z
  .object({
    type: z.literal("tfjs"),
    package: z.string().min(1),
    variant: identifier.optional(),
    /** Tried in order: tensorflow only where @tensorflow/tfjs-node is installed. */
    backends: z.array(z.enum(["tensorflow", "wasm", "cpu"])).min(1).default(["tensorflow", "wasm", "cpu"]),
  })
  .strict();

const engine = z.discriminatedUnion("type", [simulatedEngine, onnxEngine, tfjsEngine]);

/** Each view's camera and engine, the line's merged into them (config/views.ts). */
const views = z.record(identifier, z.object({ camera, engine }).strict());

const engineRuntime = z
  .object({
    queue: z.number().int().min(1).max(1000).default(4),
    hang_timeout_ms: positiveMs(600_000).default(3000),
    load_timeout_ms: positiveMs(600_000).default(60_000),
  })
  .strict();

const decide = z
  .object({
    /** Unset: the model package's ok_label, else "ok". */
    ok_label: identifier.optional(),
    /** Unset: the model package's default threshold, else 0.5. */
    threshold: z.number().min(0).max(1).optional(),
    thresholds: z.record(identifier, z.number().min(0).max(1)).default({}),
  })
  .strict();

const snapshots = z
  .object({
    rejected: z.boolean().default(true),
    accepted_sample: z.number().min(0).max(1).default(0),
    quality: z.number().int().min(1).max(100).default(85),
  })
  .strict();

export const configSchema = z
  .object({
    station: station.default({}),
    log: z.object({ level: z.enum(["fatal", "error", "warn", "info", "debug", "trace"]).default("info") }).strict().default({}),
    data_dir: z.string().min(1).default("./data"),
    line: line.default({}),
    camera,
    views: views.optional(),
    trigger: trigger.optional(),
    engine,
    engine_runtime: engineRuntime.default({}),
    decide: decide.default({}),
    actuation: actuation.default({}),
    records: records.default({}),
    publish: publish.default({}),
    lifecycle: lifecycle.default({}),
    http: http.default({}),
    snapshots: snapshots.default({}),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.line.mode === "triggered" && !c.trigger) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ["trigger"], message: "required when line.mode is 'triggered'" });
    }
    // A model package's labels are known only once it is loaded: App checks them then.
    const labels = c.engine.type === "simulated" ? c.engine.labels : undefined;
    for (const cls of labels ? Object.keys(c.decide.thresholds) : []) {
      if (!labels!.includes(cls)) {
        ctx.addIssue({
          code: z.ZodIssueCode.custom,
          path: ["decide", "thresholds", cls],
          message: `'${cls}' is not one of the engine's labels (${labels!.join(", ")})`,
        });
      }
    }
    const p = c.publish;
    if (p.type === "mqtt" && (p.url === undefined) === (p.embedded_broker === undefined)) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ["publish", "url"], message: p.url === undefined ? "required (or publish.embedded_broker)" : "the embedded broker has its own address: leave url out with embedded_broker" });
    }
    const a = c.actuation;
    if (a.on_escape === "line-stop" && !a.line_stop) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ["actuation", "on_escape"], message: "'line-stop' needs actuation.line_stop (the output that stops the conveyor)" });
    }
    if (a.line_stop_reset && a.on_escape !== "line-stop") {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ["actuation", "line_stop_reset"], message: "only used with on_escape: line-stop" });
    }
    const lines = gpioLinesOf(c);
    if (a.tracking.type === "encoder" && a.tracking.decision_margin_mm >= a.tracking.travel_mm) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ["actuation", "tracking", "decision_margin_mm"], message: "must be smaller than travel_mm" });
    }
    const seen = new Set<string>();
    for (const l of lines) {
      if (seen.has(l.name)) ctx.addIssue({ code: z.ZodIssueCode.custom, path: ["actuation"], message: `GPIO line name '${l.name}' is used twice` });
      seen.add(l.name);
    }
    a.bins.forEach((b, i) => {
      const unit = a.tracking.type === "encoder" ? "travel_mm" : "travel_ms";
      if (b[unit] === undefined) ctx.addIssue({ code: z.ZodIssueCode.custom, path: ["actuation", "bins", i, unit], message: `required with ${a.tracking.type} tracking` });
      b.classes.forEach((cls, j) => {
        if (labels && !labels.includes(cls)) ctx.addIssue({ code: z.ZodIssueCode.custom, path: ["actuation", "bins", i, "classes", j], message: `'${cls}' is not one of the engine's labels (${labels.join(", ")})` });
      });
    });
    const okLabel = c.decide.ok_label ?? "ok";
    if (labels && !labels.includes(okLabel)) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: ["decide", "ok_label"],
        message: `'${okLabel}' is not one of the engine's labels (${labels.join(", ")})`,
      });
    }
  });

/** One line's config as it runs: the station's sections and the line's own (see config/lines.ts). */
export type LineConfig = z.infer<typeof configSchema>;
/** What the loader returns: the first line's config; a `lines:` file lists every line, the first included. */
export type Config = LineConfig & { lines?: LineConfig[] };

/** Every GPIO line a line's config names: its outputs, sensors, trigger and encoder. */
export function gpioLinesOf(c: { actuation: z.infer<typeof actuation>; trigger?: z.infer<typeof trigger> | undefined }): Array<{ name: string; pin?: number | string | undefined }> {
  const a = c.actuation;
  const all = [a.reject, a.line_stop, a.line_stop_reset, a.confirm?.input, a.bin_full, a.tracking.type === "encoder" ? a.tracking.input : undefined, c.trigger?.type === "gpio" ? c.trigger.input : undefined, ...a.bins.flatMap((b) => [b.output, b.confirm?.input, b.bin_full])];
  return all.filter((l): l is NonNullable<typeof l> => l !== undefined);
}
export type CameraConfig = Config["camera"];
export interface ViewConfig {
  name: string;
  camera: CameraConfig;
  engine: EngineConfig;
}
/** The name of a line's one view when it has no `views:`. */
export const MAIN_VIEW = "main";
/** A line's cameras, each with the model that judges it; one, the line's camera, without `views:`. */
export function viewsOf(c: LineConfig): ViewConfig[] {
  if (!c.views) return [{ name: MAIN_VIEW, camera: c.camera, engine: c.engine }];
  return Object.entries(c.views).map(([name, v]) => ({ name, camera: v.camera, engine: v.engine }));
}
export type TriggerConfig = NonNullable<Config["trigger"]>;
export type EngineConfig = Config["engine"];
export type HttpConfig = Config["http"];
