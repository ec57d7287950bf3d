import { parentPort, workerData } from "node:worker_threads";
import { raiseToRealtime } from "./realtime.js";
import { nowMs } from "../util/clock.js";
import { errorMessage } from "../util/errors.js";
import { openWorkerOutput } from "./worker-output.js";
import { CONTROL_ACK, CONTROL_SAFE, type FromWorker, type PulseResult, type SchedulerInit, type ToWorker } from "./scheduler-protocol.js";
import type { OutputLine } from "./gpio.js";

/**
 * The reject scheduler's thread. It does nothing but wait and drive the
 * reject outputs: a coarse timer to within SPIN_MS of an edge, then a busy
 * wait to the exact time, so inference, GC and disk on the main thread never
 * move a pulse. It also holds every part to its ejector: a part nobody
 * decided on by then gets the fail-safe action here, even if the main thread
 * is stuck.
 */
const SPIN_MS = 2;

interface Pending {
  id: number;
  at: number;
  station?: number;
}
interface PosEvent {
  at: number;
  kind: "due" | "fire";
  id: number;
  station: number;
}
interface TimeEvent {
  t: number;
  kind: "on" | "off";
  /** A test pulse (its id numbers the request, not a part): no part is settled by it, riders are. */
  test?: boolean;
  id: number;
  station: number;
  auto: boolean;
  target: number;
  tOn: number;
  /** Parts that reached the ejector while this pulse was on: the same pulse takes them. */
  riders: Array<{ id: number; auto: boolean }>;
}

const init = workerData as SchedulerInit;
const port = parentPort!;
const control = new Int32Array(init.control);
const encoder = init.encoder ? new Int32Array(init.encoder) : undefined;
const stations = init.stations;
const defaultStation = init.failsafeStation >= 0 ? init.failsafeStation : 0;
const parts = new Map<number, Pending>();
const posQueue: PosEvent[] = [];
const timeQueue: TimeEvent[] = [];
const busyUntil = stations.map(() => -Infinity);
const pulseOn: Array<TimeEvent | undefined> = stations.map(() => undefined);
let lines: OutputLine[] = [];
let held = false;
let timer: NodeJS.Timeout | undefined;
let waitingForCount = false;

const position = (): number => (encoder ? Atomics.load(encoder, 0) : nowMs());
const send = (m: FromWorker): void => port.postMessage(m);
const result = (r: PulseResult): void => {
  parts.delete(r.id);
  send({ t: "result", ...r });
};

function insert<T>(queue: T[], item: T, key: (x: T) => number): void {
  let i = queue.length;
  while (i > 0 && key(queue[i - 1]!) > key(item)) i--;
  queue.splice(i, 0, item);
}

function arm(id: number, at: number): void {
  parts.set(id, { id, at });
  insert(posQueue, { at: at + stations[defaultStation]!.travel, kind: "due", id, station: defaultStation }, (e) => e.at);
}

function decide(id: number, station: number): void {
  const p = parts.get(id);
  // Already acted on at its ejector: the main thread learns it from that result.
  if (!p || p.station !== undefined) return;
  p.station = station;
  if (station < 0) return;
  const at = p.at + stations[station]!.travel;
  if (position() > at + init.window) {
    result({ id, outcome: "escaped", station, auto: false, why: "the reject decision reached the scheduler after the part had passed its ejector" });
    return;
  }
  insert(posQueue, { at, kind: "fire", id, station }, (e) => e.at);
}

function onPosEvent(e: PosEvent): void {
  const p = parts.get(e.id);
  if (!p) return;
  if (e.kind === "fire") {
    startPulse(e.id, e.station, e.at, false);
    return;
  }
  if (p.station === undefined) {
    if (init.failsafeStation >= 0) startPulse(e.id, init.failsafeStation, e.at, true);
    else result({ id: e.id, outcome: "escaped", station: -1, auto: true, why: "no decision by the ejector and the fail-safe action is accept" });
  } else if (p.station < 0) {
    result({ id: e.id, outcome: "accepted", station: -1, auto: false });
  }
}

function startPulse(id: number, station: number, target: number, auto: boolean): void {
  const t = nowMs();
  const on = pulseOn[station];
  if (on) {
    on.riders.push({ id, auto });
    return;
  }
  if (busyUntil[station]! > t) {
    // The ejector is still retracting: fire as soon as it may, if the part is still in reach then.
    insert(timeQueue, { t: busyUntil[station]!, kind: "on", id, station, auto, target, tOn: 0, riders: [] }, (e) => e.t);
    return;
  }
  fire(id, station, target, auto);
}

function fire(id: number, station: number, target: number, auto: boolean): void {
  const s = stations[station]!;
  if (held) {
    result({ id, outcome: "escaped", station, auto, why: "outputs are held at their safe level" });
    return;
  }
  if (position() > target + init.window) {
    const why = busyUntil[station]! > target ? `the ejector was busy (min gap ${s.minGapMs} ms) until the part was out of reach` : "the scheduler could not fire before the part was out of reach";
    result({ id, outcome: "escaped", station, auto, why });
    return;
  }
  energise(id, station, target, auto, false);
}

/**
 * A test pulse: the station's own width, after its min gap, and nothing else
 * changes (parts keep their own events; one reaching the ejector meanwhile
 * rides the pulse and is settled as rejected).
 */
function testPulse(id: number, station: number): void {
  if (held) {
    send({ t: "test-refused", id, why: "outputs are held at their safe level" });
    return;
  }
  if (!stations[station]) {
    send({ t: "test-refused", id, why: `no reject station ${station}` });
    return;
  }
  insert(timeQueue, { t: Math.max(nowMs(), busyUntil[station]!), kind: "on", test: true, id, station, auto: false, target: 0, tOn: 0, riders: [] }, (e) => e.t);
}

function energise(id: number, station: number, target: number, auto: boolean, test: boolean): void {
  const s = stations[station]!;
  lines[station]!.set(true);
  const tOn = nowMs();
  // A safe request that raced this edge wins: the line goes straight back.
  if (Atomics.load(control, CONTROL_SAFE) === 1) holdSafe();
  busyUntil[station] = tOn + s.pulseMs + s.minGapMs;
  const off: TimeEvent = { t: tOn + s.pulseMs, kind: "off", test, id, station, auto, target, tOn, riders: [] };
  pulseOn[station] = off;
  insert(timeQueue, off, (e) => e.t);
}

function onTimeEvent(e: TimeEvent): void {
  if (e.kind === "on") {
    const on = pulseOn[e.station];
    if (e.test) {
      if (held) send({ t: "test-refused", id: e.id, why: "outputs are held at their safe level" });
      // A part's pulse took the ejector first: the test waits for its min gap again.
      else if (on || busyUntil[e.station]! > e.t) insert(timeQueue, { ...e, t: busyUntil[e.station]! }, (x) => x.t);
      else energise(e.id, e.station, 0, false, true);
    } else if (on) {
      // Two waits for the same retracting ejector ended together: the second rides the first's pulse.
      on.riders.push({ id: e.id, auto: e.auto });
    } else {
      fire(e.id, e.station, e.target, e.auto);
    }
    return;
  }
  lines[e.station]!.set(false);
  const tOff = nowMs();
  // The ejector's retract time counts from when the output really went off.
  busyUntil[e.station] = Math.max(busyUntil[e.station]!, tOff + stations[e.station]!.minGapMs);
  pulseOn[e.station] = undefined;
  if (e.test) send({ t: "tested", id: e.id, tOnMs: e.tOn, tOffMs: tOff });
  for (const p of [...(e.test ? [] : [{ id: e.id, auto: e.auto }]), ...e.riders]) {
    result({ id: p.id, outcome: held ? "escaped" : "rejected", station: e.station, auto: p.auto, tOnMs: e.tOn, tOffMs: tOff, ...(held ? { why: "pulse cut short by a safe request" } : {}) });
  }
}

function pump(): void {
  if (timer) clearTimeout(timer);
  timer = undefined;
  for (;;) {
    const now = nowMs();
    const pos = encoder ? Atomics.load(encoder, 0) : now;
    if (timeQueue.length > 0 && timeQueue[0]!.t <= now) {
      onTimeEvent(timeQueue.shift()!);
      continue;
    }
    if (posQueue.length > 0 && posQueue[0]!.at <= pos) {
      onPosEvent(posQueue.shift()!);
      continue;
    }
    const next = Math.min(timeQueue[0]?.t ?? Infinity, encoder ? Infinity : (posQueue[0]?.at ?? Infinity));
    if (next - now <= SPIN_MS) {
      while (nowMs() < next) {
        // the precise part of the wait
      }
      continue;
    }
    if (next !== Infinity) timer = setTimeout(pump, next - now - SPIN_MS);
    break;
  }
  if (encoder && posQueue.length > 0 && !waitingForCount) waitForCount();
}

/** Encoder tracking: wake on every count the main thread adds. */
function waitForCount(): void {
  waitingForCount = true;
  const w = (Atomics as unknown as AtomicsWaitAsync).waitAsync(encoder!, 0, Atomics.load(encoder!, 0));
  const again = () => {
    waitingForCount = false;
    pump();
  };
  if (w.async) void w.value.then(again);
  else setImmediate(again);
}

interface AtomicsWaitAsync {
  waitAsync(a: Int32Array, i: number, v: number): { async: true; value: Promise<string> } | { async: false; value: string };
}

function holdSafe(): void {
  held = true;
  for (let i = 0; i < lines.length; i++) {
    try {
      lines[i]!.set(stations[i]!.output.safe);
    } catch {
      // keep going: every other line must still go safe
    }
  }
  Atomics.store(control, CONTROL_ACK, 1);
  Atomics.notify(control, CONTROL_ACK);
}

function watchSafeRequest(): void {
  const w = (Atomics as unknown as AtomicsWaitAsync).waitAsync(control, CONTROL_SAFE, 0);
  if (w.async) void w.value.then(holdSafe);
  else holdSafe();
}

try {
  lines = stations.map((s) => openWorkerOutput(s.output));
  watchSafeRequest();
  port.on("message", (m: ToWorker) => {
    switch (m.t) {
      case "arm":
        arm(m.id, m.at);
        break;
      case "decide":
        decide(m.id, m.station);
        break;
      case "test":
        testPulse(m.id, m.station);
        break;
      case "stop":
        holdSafe();
        port.close();
        process.exit(0);
    }
    pump();
  });
  if (init.realtimePriority > 0) {
    const why = raiseToRealtime(init.realtimePriority);
    if (why) send({ t: "warning", code: "E_RT_PRIORITY", message: `reject thread left at normal priority, pulses may be late under load: ${why}` });
  }
  send({ t: "ready" });
} catch (err) {
  send({ t: "error", message: errorMessage(err) });
}
