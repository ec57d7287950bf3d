import { z } from "zod";
import { COMMAND_NAMES } from "../publish/command-names.js";
import { identifier, ms, positiveMs, secretRef } from "./schema-common.js";

// The station's own sections: records, publish (MQTT, commands, Sparkplug), the review server, lifecycle.

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

export const records = z.preprocess(memoryByDefault, z.discriminatedUnion("type", [memoryRecords, sqliteRecords]));

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

export const publish = z.preprocess(memoryByDefault, z.discriminatedUnion("type", [memoryPublish, mqttPublish]));

const httpRole = z.enum(["viewer", "operator"]);

/**
 * Operator review server. On by default on loopback only: exposing it on a
 * network interface is a deliberate `host` setting, best with auth and TLS.
 */
export const http = z
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

export const lifecycle = z
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

