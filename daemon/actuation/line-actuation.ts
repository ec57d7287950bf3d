import type { Config } from "../config/schema.js";
import type { Logger } from "../util/log.js";
import type { Judgement, SettledPart } from "../pipeline/part.js";
import { Encoder } from "../trigger/encoder.js";
import type { Gpio, InputSpec, OutputLine, OutputSpec } from "./gpio.js";
import { Alarms } from "./alarms.js";
import { BinMonitor } from "./bin-monitor.js";
import { LineStop } from "./line-stop.js";
import { RejectConfirm } from "./reject-confirm.js";
import { RejectScheduler } from "./reject-scheduler.js";
import type { StationPlan, TestPulse } from "./reject-plan.js";
import { PartTracker } from "./tracker.js";

type LineConfig = Config["actuation"]["reject"];
type InputConfig = NonNullable<Config["actuation"]["bin_full"]>;

export function outputSpec(l: LineConfig): OutputSpec {
  const safe = l.safe === "active";
  const spec: OutputSpec = { name: l.name, activeLow: l.active_low, safe, initial: l.initial === "safe" ? safe : l.initial === "active" };
  if (l.pin !== undefined) spec.pin = l.pin;
  return spec;
}

export function inputSpec(l: InputConfig, edge: InputSpec["edge"]): InputSpec {
  const spec: InputSpec = { name: l.name, activeLow: l.active_low, edge };
  if (l.pin !== undefined) spec.pin = l.pin;
  return spec;
}

/**
 * Everything between a part's verdict and the bins, built from the config on
 * a given GPIO chip: the reject stations (the main reject output plus one per
 * class bin) driven by the reject core, the tracker, the encoder, the
 * confirmation and bin-full sensors, the line-stop output and the alarms.
 */
export class LineActuation {
  readonly alarms: Alarms;
  readonly scheduler: RejectScheduler;
  readonly tracker: PartTracker;
  readonly encoder: Encoder | undefined;
  private readonly bins: BinMonitor;
  private readonly confirms: Array<RejectConfirm | undefined>;
  private readonly binInputs: Array<{ station: string; spec: InputSpec }> = [];
  private readonly lineStopReset: InputSpec | undefined;
  readonly lineStop: LineStop;

  constructor(config: Config, private readonly gpio: Gpio, modelVersion: () => string, onSettled: (p: SettledPart) => void, log: Logger, nextPartId: () => number = counter()) {
    const a = config.actuation;
    const t = a.tracking;
    this.alarms = new Alarms(log.child({ component: "alarms" }));
    const perMm = t.type === "encoder" ? t.counts_per_mm : 1;
    this.encoder = t.type === "encoder" ? new Encoder(gpio.input(inputSpec(t.input, "rising"))) : undefined;
    const travelOf = (ms: number | undefined, mm: number | undefined) => (t.type === "encoder" ? Math.round((mm ?? t.travel_mm) * perMm) : (ms ?? config.line.travel_ms));
    const stations: StationPlan[] = [
      { name: a.reject.name, output: gpio.workerOutput(outputSpec(a.reject)), pulseMs: a.pulse_ms, minGapMs: a.min_gap_ms, travel: travelOf(undefined, undefined) },
      ...a.bins.map((b) => ({
        name: b.output.name,
        output: gpio.workerOutput(outputSpec(b.output)),
        pulseMs: b.pulse_ms ?? a.pulse_ms,
        minGapMs: b.min_gap_ms ?? a.min_gap_ms,
        travel: travelOf(b.travel_ms, b.travel_mm),
      })),
    ];
    const failsafeStation = config.line.failsafe.action === "reject" ? 0 : -1;
    this.scheduler = new RejectScheduler(
      {
        tracking: t.type,
        stations,
        window: t.type === "encoder" ? t.window_mm * perMm : a.window_ms,
        failsafeStation,
        realtimePriority: a.realtime_priority,
        wakeLeadMaxMs: a.wake_lead_max_ms,
        // Triggered parts past max_in_flight still exist (they fail safe as overload): room for a belt full of them.
        capacity: Math.max(4096, 4 * config.line.max_in_flight),
        ...(this.encoder ? { encoder: this.encoder.shared } : {}),
      },
      log.child({ component: "scheduler" }),
    );
    const binOf = new Map<string, number>();
    a.bins.forEach((b, i) => b.classes.forEach((cls) => binOf.set(cls, i + 1)));
    const stationFor = (j: Judgement) => binOf.get(j.findings[0]?.class ?? "") ?? 0;
    this.tracker = new PartTracker(
      {
        tracking: t.type,
        travel: Math.min(...stations.map((s) => s.travel)),
        decisionMargin: t.type === "encoder" ? t.decision_margin_mm * perMm : config.line.decision_margin_ms,
        window: t.type === "encoder" ? t.window_mm * perMm : a.window_ms,
        travelMsEstimate: config.line.travel_ms,
        failsafeAction: config.line.failsafe.action,
        stationFor,
        line: config.station.line,
        nextId: nextPartId,
      },
      this.scheduler,
      this.encoder,
      modelVersion,
      onSettled,
      this.alarms,
      log.child({ component: "tracker" }),
    );
    const lineStopOutput: OutputLine | undefined = a.line_stop ? gpio.output(outputSpec(a.line_stop)) : undefined;
    this.lineStop = new LineStop(lineStopOutput, this.alarms);
    this.bins = new BinMonitor(this.alarms, this.lineStop);
    if (a.on_escape === "line-stop") {
      this.alarms.on((alarm) => {
        if (alarm.code === "escaped" && alarm.part !== undefined) this.lineStop.escaped(alarm.part);
      });
    }
    this.lineStopReset = a.line_stop_reset ? inputSpec(a.line_stop_reset, "rising") : undefined;
    const sensors = [{ name: a.reject.name, confirm: a.confirm, full: a.bin_full }, ...a.bins.map((b) => ({ name: b.output.name, confirm: b.confirm, full: b.bin_full }))];
    this.confirms = sensors.map((s) => (s.confirm ? new RejectConfirm(s.name, gpio.input(inputSpec(s.confirm.input, "rising")), s.confirm.within_ms, this.alarms) : undefined));
    for (const s of sensors) if (s.full) this.binInputs.push({ station: s.name, spec: inputSpec(s.full, "both") });
    this.tracker.onPulse((p, station) => this.confirms[station]?.expect(p.id, p.tPulseMs!));
  }

  async start(): Promise<void> {
    await this.scheduler.start();
    this.encoder?.onCount(() => this.scheduler.kick());
    this.encoder?.start();
    if (this.lineStopReset) this.lineStop.watchReset(this.gpio.input(this.lineStopReset));
    for (const b of this.binInputs) this.bins.watch(b.station, this.gpio.input(b.spec));
  }

  async stop(): Promise<void> {
    for (const c of this.confirms) c?.stop();
    await this.scheduler.stop();
  }

  /** One test pulse on the main reject output (the MQTT `test-reject` command). */
  testPulse(): Promise<TestPulse> {
    return this.scheduler.testPulse(0);
  }

  /** Synchronous: the reject core's outputs to safe (the caller does the main thread's own lines). */
  emergencySafe(): void {
    this.scheduler.safeSync();
  }
}

/** Part ids 1, 2, 3...: one such sequence per station. */
export function counter(): () => number {
  let next = 1;
  return () => next++;
}
