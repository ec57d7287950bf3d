import { resolve } from "node:path";
import type { Config } from "../config/schema.js";
import { commandsSchema } from "../config/station-schema.js";
import type { Store } from "../records/store.js";
import { snapshotPath } from "../records/snapshot-path.js";
import type { Publisher } from "../publish/publisher.js";
import { Commands, type CommandTarget } from "../publish/commands.js";
import { Telemetry } from "../publish/telemetry.js";
import { OutboxDrainer } from "../publish/outbox-drainer.js";
import { defectMessage } from "../publish/messages.js";
import { SparkplugNode } from "../publish/sparkplug/edge-node.js";
import { edgeNodeId, edgeNodeOptions } from "../publish/sparkplug/options.js";
import { stationSource, type SparkplugLine, type SparkplugStation } from "../publish/sparkplug/station-metrics.js";
import { DeviceCommands } from "../publish/sparkplug/device-commands.js";
import { ActiveAlarms } from "../publish/sparkplug/active-alarms.js";
import { sparkplugDefectEntry } from "../publish/sparkplug/defect-event.js";
import { isSparkplugTopic, type EdgeNodeId } from "../publish/sparkplug/topics.js";
import { DemoBroker } from "../publish/broker/embedded-broker.js";
import { HttpServer } from "../http/server.js";
import type { Station as HttpStation, StationLine } from "../http/station.js";
import type { SettledPart } from "../pipeline/part.js";
import type { Alarms } from "../actuation/alarms.js";
import { EdgeError } from "../util/errors.js";
import type { Logger } from "../util/log.js";
import { buildPublisher, buildStore } from "./build.js";

/** One step of the station's ordered start; stops run in reverse, each within the stop's deadline (epoch ms). */
export interface Step {
  name: string;
  start(): Promise<void> | void;
  stop(deadline: number): Promise<void> | void;
}

/** What the station reads of the running line and its owner, for commands, telemetry, Sparkplug and the review server. */
export interface StationView extends HttpStation, Omit<SparkplugStation, "commandStats" | "activeAlarms" | "lines"> {
  /** Every line as the review server and the Sparkplug node read it. */
  lines(): Array<StationLine & SparkplugLine>;
  /** Line counters and state for the periodic `metrics` message, the station adds its own. */
  lineMetrics(): Record<string, unknown>;
}

/** The broker's share of a stop: its clean disconnect, one round trip. */
export const STOP_CLOSE_MS = 1000;
/** What a stop needs after the broker: closing the store, the outputs and the threads. */
export const STOP_TAIL_MS = 500;

/**
 * What the station has once, whatever its lines: the records, the broker
 * connection and its outbox, the commands, telemetry, the Sparkplug edge
 * node, the embedded demo broker and the review server, and the alarms of
 * every part of it brought to the operator.
 */
export class Station {
  readonly store: Store;
  readonly publisher: Publisher;
  readonly commands: Commands;
  /** The broker the station starts itself (publish.embedded_broker, the demo), before anything connects to it. */
  readonly demoBroker: DemoBroker | undefined;
  /** The Sparkplug B edge node, its share of the outbox (defect events), and whether the JSON topics carry defects and metrics too. */
  readonly sparkplug: { node: SparkplugNode; id: EdgeNodeId; drainer: OutboxDrainer; jsonTopics: boolean } | undefined;
  readonly http: HttpServer | undefined;
  private readonly telemetry: Telemetry;
  private readonly drainer: OutboxDrainer;
  private readonly activeAlarms = new ActiveAlarms();

  constructor(
    private readonly config: Config,
    parts: { store?: Store; publisher?: Publisher },
    view: StationView,
    target: CommandTarget,
    private readonly log: Logger,
    env: NodeJS.ProcessEnv,
  ) {
    this.store = parts.store ?? buildStore(config, log);
    const p = config.publish;
    this.demoBroker = p.type === "mqtt" && p.embedded_broker ? new DemoBroker(p.embedded_broker, resolve(config.data_dir), log.child({ component: "broker" })) : undefined;
    this.publisher = parts.publisher ?? buildPublisher(config, log, this.demoBroker);
    this.drainer = new OutboxDrainer(this.store, this.publisher, p.max_in_flight, log.child({ component: "outbox" }), (m) => !isSparkplugTopic(m.topic));
    this.http = config.http.enabled ? new HttpServer(config.http, view, () => this.store.review(), log.child({ component: "http" }), env) : undefined;
    const commands = p.type === "mqtt" ? p.commands : commandsSchema.parse({});
    this.commands = new Commands(
      {
        station: config.station,
        allow: commands.allow,
        maxPayloadBytes: commands.max_payload_bytes,
        replyPrefixes: commands.reply_prefixes,
        rate: commands.rate,
        rates: commands.rates,
      },
      target,
      this.publisher,
      log.child({ component: "commands" }),
    );
    this.sparkplug = p.type === "mqtt" && p.sparkplug?.enabled ? this.buildSparkplug(p, p.sparkplug, commands, view) : undefined;
    const metricsMs = (p.type === "mqtt" ? p.metrics_interval_s : 10) * 1000;
    this.telemetry = new Telemetry(config.station, this.publisher, () => this.metrics(view), metricsMs, log.child({ component: "telemetry" }));
    this.store.onAlarm((alarm) => this.announce(alarm));
    this.publisher.onProblem((problem) => this.keepAlarm({ ...problem, active: true, timeMs: Date.now() }));
  }

  /** Part ids restart with every run; run + part id is unique on this station. */
  get runId(): string {
    return this.store.runId;
  }

  /** A line's alarms (escapes, bins full, unconfirmed rejects) go on record and to the operator. */
  watch(alarms: Alarms): void {
    alarms.on((alarm) => this.keepAlarm(alarm));
  }

  /** The station's steps, in start order, before the model loads. */
  steps(): Step[] {
    return [
      { name: "store", start: () => this.store.open(), stop: () => this.store.close() },
      { name: "http", start: () => this.startHttp(), stop: () => this.http?.stop() },
      { name: "broker", start: () => this.demoBroker?.start(), stop: () => this.demoBroker?.close() },
      {
        name: "publisher",
        start: () => this.publisher.connect(),
        stop: async (deadline) => {
          const closeMs = Math.max(STOP_CLOSE_MS / 2, Math.min(STOP_CLOSE_MS, deadline - Date.now() - STOP_TAIL_MS));
          await Promise.all([this.publisher.close(closeMs), this.sparkplug?.node.close(closeMs)]);
        },
      },
      {
        name: "outbox",
        start: () => this.drainer.start(),
        // Whatever the broker does, the end of the stop is kept for its goodbye and closing the rest.
        stop: async (deadline) => {
          await this.store.flush();
          if (!(await this.drainer.drained(Math.max(0, Math.min(2000, deadline - Date.now() - STOP_CLOSE_MS - STOP_TAIL_MS))))) {
            this.log.warn({ outbox: this.store.stats().outbox }, "outbox not empty at stop: it is kept and sent after the next start");
          }
          this.drainer.stop();
          this.sparkplug?.drainer.stop();
        },
      },
      { name: "commands", start: () => this.commands.start(), stop: () => undefined },
      {
        name: "telemetry",
        start: () => (this.sparkplug?.jsonTopics !== false ? this.telemetry.start() : undefined),
        stop: () => this.telemetry.stop(),
      },
    ];
  }

  /** Born once the model's classes are known: the birth certificate names every metric the line will report. */
  sparkplugStep(): Step {
    return {
      name: "sparkplug",
      start: async () => {
        if (!this.sparkplug) return;
        await this.sparkplug.node.start();
        this.sparkplug.drainer.start();
      },
      // Closed with the publisher; its drainer with the outbox's.
      stop: () => undefined,
    };
  }

  /** The inspection, its defect message and its snapshot: one store transaction. */
  record(p: SettledPart, jpeg: Buffer | undefined, line: string): void {
    const snapshot = jpeg ? snapshotPath(this.runId, p.id) : null;
    const outbox = [];
    if (p.outcome === "rejected") {
      const defect = defectMessage({ ...this.config.station, line }, this.runId, p, snapshot);
      if (this.sparkplug?.jsonTopics !== false) outbox.push(defect);
      if (this.sparkplug) outbox.push(sparkplugDefectEntry(this.sparkplug.id, line, defect));
    }
    this.store.record(p, outbox, jpeg);
  }

  /** The periodic `metrics` message. */
  metrics(view: Pick<StationView, "lineMetrics">): Record<string, unknown> {
    return {
      ...view.lineMetrics(),
      store: this.store.stats(),
      outbox: { published: this.drainer.published, failures: this.drainer.failures, refused: this.drainer.refused },
      commands: this.commands.counts,
      ...(this.sparkplug && { sparkplug: this.sparkplug.node.counts }),
    };
  }

  /** The edge node on its own connection, reading the station's books; its DCMDs go through the station's commands. */
  private buildSparkplug(
    p: Extract<Config["publish"], { type: "mqtt" }>,
    s: NonNullable<Extract<Config["publish"], { type: "mqtt" }>["sparkplug"]>,
    commands: Extract<Config["publish"], { type: "mqtt" }>["commands"],
    view: StationView,
  ): NonNullable<Station["sparkplug"]> {
    const source = stationSource({
      health: () => view.health(),
      lines: () => view.lines(),
      commandStats: () => this.commands.counts,
      activeAlarms: () => this.activeAlarms.codes(),
    });
    const node = new SparkplugNode(edgeNodeOptions(this.config, p, s, this.demoBroker), source, this.log.child({ component: "sparkplug" }));
    const dcmd = new DeviceCommands(this.commands, commands.max_payload_bytes, s.dcmd_identity, () => node.flushChanges(), this.log.child({ component: "sparkplug" }));
    node.onDeviceCommand((c) => void dcmd.handle(c).catch((err: unknown) => this.log.error({ err }, "DCMD handling failed")));
    const drainer = new OutboxDrainer(this.store, node, p.max_in_flight, this.log.child({ component: "sparkplug-outbox" }), (m) => isSparkplugTopic(m.topic));
    return { node, id: edgeNodeId(this.config, s), drainer, jsonTopics: s.json_topics };
  }

  private keepAlarm(alarm: Parameters<Store["recordAlarm"]>[0]): void {
    this.store.recordAlarm(alarm);
    this.announce(alarm);
  }

  private announce(alarm: Parameters<Telemetry["alarm"]>[0]): void {
    this.telemetry.alarm(alarm);
    this.activeAlarms.note(alarm);
  }

  /**
   * The line does not need the review server to inspect: a port already taken
   * is an alarm, not a reason to leave parts unjudged. Bad http config still
   * refuses the start.
   */
  private async startHttp(): Promise<void> {
    if (!this.http) return;
    try {
      await this.http.start();
    } catch (err) {
      if ((err as EdgeError).code !== "E_HTTP_LISTEN") throw err;
      const alarm = { code: "E_HTTP_LISTEN", message: (err as Error).message, active: true, timeMs: Date.now() };
      this.log.error({ code: alarm.code }, `operator review unavailable: ${alarm.message}`);
      this.store.recordAlarm(alarm);
    }
  }
}
