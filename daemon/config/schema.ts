import { z } from "zod";
import { NOVEL_DEFECTS } from "../capture/novel-kinds.js";
import { COMMAND_NAMES } from "../publish/command-names.js";

/**
 * The one configuration schema. Types are inferred from it; defaults live here
 * and nowhere else; unknown keys are errors (a typo must not silently fall back
 * to a default on a production line).
 */

const ms = (max: number) => z.number().int().min(0).max(max);
const positiveMs = (max: number) => z.number().int().min(1).max(max);
const identifier = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9_-]+$/, "only letters, digits, '-' and '_' (it becomes part of MQTT topics)");

/** A secret: `file:/path`, `credential:NAME` (systemd LoadCredential=) or `env:VAR`. */
export const secretRef = z
  .string()
  .regex(/^(file:.+|credential:[A-Za-z0-9_.-]+|env:[A-Za-z_][A-Za-z0-9_]*)$/, "must be file:/path, credential:NAME or env:VAR");

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

/** Keys every camera source shares: how long a silence is a stall, how to reconnect. */
const cameraCommon = {
  /** No frame for this long while connected: the source is reopened. */
  stall_ms: positiveMs(600_000).default(2000),
  /** Opening the source (RTSP handshake, device probe) may take this long. */
  open_timeout_ms: positiveMs(600_000).default(10_000),
  reconnect: z
    .object({
      initial_ms: positiveMs(600_000).default(200),
      max_ms: positiveMs(3_600_000).default(10_000),
      /** Each delay is varied by up to this share, so stations do not retry in step. */
      jitter: z.number().min(0).max(1).default(0.2),
    })
    .strict()
    .default({}),
  /** Frames captured but not yet taken by the pipeline; beyond it a live source drops. */
  queue: z.number().int().min(1).max(64).default(2),
};
const frameSize = z.number().int().min(16).max(8192);
const pacing = z.enum(["realtime", "fast"]).default("realtime");

const syntheticCamera = z
  .object({
    type: z.literal("synthetic"),
    width: z.number().int().min(64).max(4096).default(640),
    height: z.number().int().min(64).max(4096).default(480),
    fps: z.number().min(0.1).max(1000).default(20),
    seed: z.number().int().min(0).default(1),
    defect_rate: z.number().min(0).max(1).default(0.2),
    /** Defect kinds no model was trained on, to measure escapes; none unless listed. */
    novel_defects: z
      .array(z.enum(NOVEL_DEFECTS))
      .refine((k) => new Set(k).size === k.length, "lists a kind twice")
      .default([]),
    /** Share of parts with one of novel_defects, taken before the trained defects. */
    novel_rate: z.number().min(0).max(1).default(0.1),
    ...cameraCommon,
  })
  .strict();

const v4l2Camera = z
  .object({
    type: z.literal("v4l2"),
    device: z.union([z.number().int().min(0).max(63), z.string().regex(/^\/dev\/video\d+$/, "must be an index or /dev/videoN")]).default(0),
    width: frameSize.optional(),
    height: frameSize.optional(),
    fps: z.number().min(0.1).max(1000).optional(),
    fourcc: z.string().length(4, "must be 4 characters, e.g. MJPG or YUYV").optional(),
    /** Manual exposure in the driver's units; leaving it out keeps auto exposure. */
    exposure: z.number().optional(),
    gain: z.number().optional(),
    ...cameraCommon,
  })
  .strict();

const gstreamerCamera = z
  .object({
    type: z.literal("gstreamer"),
    pipeline: z.string().regex(/appsink(\s+[^!]*)?$/, "must end in an appsink element"),
    ...cameraCommon,
  })
  .strict();

const urlCamera = z
  .object({
    type: z.literal("url"),
    url: z.string().regex(/^(rtsps?|https?|rtmp|udp|tcp):\/\/\S+$/, "must be an rtsp://, http(s)://, rtmp://, udp:// or tcp:// URL"),
    ...cameraCommon,
  })
  .strict();

const fileCamera = z
  .object({
    type: z.literal("file"),
    path: z.string().min(1),
    loop: z.boolean().default(false),
    /** realtime: at the file's frame rate (or fps); fast: as fast as the pipeline takes frames. */
    pacing,
    fps: z.number().min(0.1).max(1000).optional(),
    /** Ground truth written by `edge-inspect synth`, attached to each frame. */
    truth: z.string().min(1).optional(),
    ...cameraCommon,
  })
  .strict();

const folderCamera = z
  .object({
    type: z.literal("folder"),
    path: z.string().min(1),
    loop: z.boolean().default(false),
    pacing,
    fps: z.number().min(0.1).max(1000).default(10),
    truth: z.string().min(1).optional(),
    ...cameraCommon,
  })
  .strict();

/**
 * A recording (a video file, or a folder of images) decoded once into memory
 * and replayed at a fixed rate, looping: the camera then costs next to
 * nothing, so what a benchmark measures is the daemon. Also for trying a
 * model on footage of the line.
 */
const replayCamera = z
  .object({
    type: z.literal("replay"),
    path: z.string().min(1),
    fps: z.number().min(0.1).max(1000),
    loop: z.boolean().default(true),
    /** The decoded frames may take this much memory; a longer recording is refused at open, not cut. */
    max_mb: z.number().int().min(1).max(16_384).default(512),
    truth: z.string().min(1).optional(),
    ...cameraCommon,
  })
  .strict();

const camera = z.discriminatedUnion("type", [syntheticCamera, v4l2Camera, gstreamerCamera, urlCamera, fileCamera, folderCamera, replayCamera]);

/** sysfs gpio number (onoff), or line offset / line name on the chip (gpiod); simulated lines need none. */
const pin = z.union([z.number().int().min(0).max(100_000), z.string().min(1).max(64)]);

const inputLine = z
  .object({
    name: identifier,
    pin: pin.optional(),
    active_low: z.boolean().default(false),
  })
  .strict();

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

const actuation = z
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

/** `type` may be left out of records/publish: memory is the default implementation. */
const memoryByDefault = (v: unknown) => (v && typeof v === "object" && !Array.isArray(v) && !("type" in v) ? { ...v, type: "memory" } : v);

const memoryRecords = z
  .object({
    type: z.literal("memory"),
    batch_ms: positiveMs(10_000).default(100),
  })
  .strict();

const sqliteRecords = z
  .object({
    type: z.literal("sqlite"),
    batch_ms: positiveMs(10_000).default(100),
    file: z.string().min(1).default("records.sqlite"),
    snapshot_dir: z.string().min(1).default("snapshots"),
    busy_timeout_ms: ms(600_000).default(5000),
    journal_size_limit_mb: z.number().int().min(1).max(4096).default(64),
    max_pending_rows: z.number().int().min(100).max(10_000_000).default(50_000),
    outbox_max_rows: z.number().int().min(100).max(100_000_000).default(1_000_000),
    retry_ms: positiveMs(600_000).default(1000),
    retention: z
      .object({
        max_age_days: z.number().min(0.01).max(36_500).default(90),
        max_db_mb: z.number().min(1).max(1_000_000).default(2048),
        max_snapshot_mb: z.number().min(0).max(10_000_000).default(4096),
        check_s: z.number().int().min(1).max(86_400).default(300),
      })
      .strict()
      .default({}),
  })
  .strict();

const records = z.preprocess(memoryByDefault, z.discriminatedUnion("type", [memoryRecords, sqliteRecords]));

const memoryPublish = z
  .object({
    type: z.literal("memory"),
    max_in_flight: z.number().int().min(1).max(1000).default(32),
    password: secretRef.optional(),
  })
  .strict();

const commandRate = z.object({ per_s: z.number().min(0.001).max(10_000), burst: z.number().int().min(1).max(100_000) }).strict();

/** What the station takes on cmd/<name> (docs/mqtt.md). */
export const commandsSchema = z
  .object({
    allow: z.array(z.string().min(1).max(128)).default([]),
    max_payload_bytes: z.number().int().min(64).max(1_048_576).default(4096),
    /** Topic prefixes an MQTT 5 response topic may name besides the station's own `replies/` tree. */
    reply_prefixes: z.array(z.string().min(1).max(256).regex(/^[^$+#][^+#]*\/$/, "must end with '/', without wildcards or a leading '$'")).default([]),
    /** All commands together; beyond it a command is refused (E_CMD_RATE). */
    rate: commandRate.default({ per_s: 10, burst: 20 }),
    /** Per command, over its built-in default (see docs/mqtt.md). */
    rates: z.record(z.enum(COMMAND_NAMES), commandRate).default({}),
  })
  .strict();

/** The station as a Sparkplug B 3.0 edge node (docs/mqtt.md), beside the JSON topics or instead of them. */
const sparkplug = z
  .object({
    enabled: z.boolean().default(true),
    /** Default: station.site. */
    group_id: identifier.optional(),
    /** Default: station.device. */
    edge_node_id: identifier.optional(),
    /** Publish only while this host application's STATE says online; hold defect events while it is away. */
    primary_host_id: identifier.optional(),
    /** Changed metrics are sent at most this often. */
    data_interval_ms: positiveMs(3_600_000).default(1000),
    /** Defect events sent this recently are sent again (historical) after the host went away or asked for a rebirth: it may have missed them. */
    replay_window_s: z.number().int().min(0).max(3600).default(60),
    /** false: Sparkplug instead of the JSON `defects` and `metrics` topics (status and cmd/ stay). */
    json_topics: z.boolean().default(true),
    /** The identity of a DCMD that names none (hosts that cannot set one); it must be in commands.allow like any other. */
    dcmd_identity: z.string().min(1).max(128).optional(),
  })
  .strict();

/** A broker the station starts itself, on loopback (the demo): `url` is then its own. */
const embeddedBroker = z
  .object({
    /** 0: a free port, printed at start. */
    port: z.number().int().min(0).max(65_535).default(0),
    /** auto: the system's Mosquitto when installed, otherwise aedes in the daemon's process. */
    implementation: z.enum(["auto", "mosquitto", "aedes"]).default("auto"),
  })
  .strict();

const mqttPublish = z
  .object({
    type: z.literal("mqtt"),
    /** Required unless embedded_broker is set. */
    url: z.string().regex(/^(mqtts?|wss?):\/\/[^\s]+$/, "must be an mqtt://, mqtts://, ws:// or wss:// URL").optional(),
    embedded_broker: embeddedBroker.optional(),
    sparkplug: sparkplug.optional(),
    client_id: z.string().min(1).max(128).optional(),
    protocol: z.enum(["auto", "5", "3.1.1"]).default("auto"),
    tls: z
      .object({ ca: z.string().min(1).optional(), cert: z.string().min(1).optional(), key: z.string().min(1).optional() })
      .strict()
      .refine((t) => Boolean(t.cert) === Boolean(t.key), { message: "cert and key must be given together", path: ["cert"] })
      .optional(),
    username: z.string().min(1).max(256).optional(),
    password: secretRef.optional(),
    keepalive_s: z.number().int().min(0).max(65_535).default(30),
    reconnect_ms: positiveMs(600_000).default(2000),
    connect_timeout_ms: positiveMs(600_000).default(10_000),
    max_in_flight: z.number().int().min(1).max(1000).default(32),
    metrics_interval_s: z.number().int().min(1).max(86_400).default(10),
    commands: commandsSchema.default({}),
  })
  .strict();

const publish = z.preprocess(memoryByDefault, z.discriminatedUnion("type", [memoryPublish, mqttPublish]));

const httpRole = z.enum(["viewer", "operator"]);

/**
 * Operator review server. On by default on loopback only: exposing it on a
 * network interface is a deliberate `host` setting, best with auth and TLS.
 */
const http = z
  .object({
    enabled: z.boolean().default(true),
    host: z.string().min(1).default("127.0.0.1"),
    port: z.number().int().min(0).max(65_535).default(8080),
    auth: z
      .object({
        /** Basic auth, for browsers. */
        users: z.array(z.object({ name: z.string().min(1).max(64).regex(/^[^:]+$/, "must not contain ':'"), password: secretRef, role: httpRole }).strict()).default([]),
        /** Bearer tokens, for Prometheus and scripts. */
        tokens: z.array(z.object({ token: secretRef, role: httpRole }).strict()).default([]),
        /** Role of a request without credentials; when left out: viewer without users and tokens, refused with them. */
        anonymous: z.enum(["none", "viewer", "operator"]).optional(),
      })
      .strict()
      .default({}),
    tls: z.object({ cert: z.string().min(1), key: z.string().min(1) }).strict().optional(),
    /** How often the live view is refreshed over server-sent events (one event per interval, whatever the line rate). */
    live_interval_ms: z.number().int().min(100).max(10_000).default(500),
  })
  .strict();

const lifecycle = z
  .object({
    stop_timeout_ms: positiveMs(600_000).default(10_000),
    progress_report_ms: positiveMs(3_600_000).default(2000),
    /**
     * Nice value of the daemon's threads (the event loop, capture, inference and the writer inherit it): below 0
     * they run ahead of other work on the board, so a verdict is not late because a neighbour is busy.
     */
    nice: z.number().int().min(-20).max(19).default(-10),
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
export type TriggerConfig = NonNullable<Config["trigger"]>;
export type EngineConfig = Config["engine"];
export type HttpConfig = Config["http"];
