import { test } from "node:test";
import { monitorEventLoopDelay } from "node:perf_hooks";
import assert from "node:assert/strict";
import { App } from "../../daemon/app.js";
import { topic } from "../../daemon/publish/topics.js";
import { BASE_YAML, lineConfig } from "../fakes/line.js";
import { Mosquitto } from "../fakes/mosquitto.js";
import { quietLog } from "../fakes/quiet-log.js";
import { sleep } from "../../daemon/util/clock.js";
import { OPERATOR, attacker, connected, mqttYaml, publishFromProcess, station, until } from "./mqtt-station.js";

const LABELS = ["ok", "scratch", "crack", "stain", "missing_hole"];
const PER_COMMAND = 3000;
interface Phase {
  seconds: number;
  parts: number;
  escaped: number;
  failsafe: number;
  lagP99: number;
  lagMax: number;
  /** This process's CPU time over the phase's wall time: busy, or starved by the machine. */
  cpuPercent: number;
}

/** What the line did while `during` ran: parts, escapes, fail-safe parts, event-loop lag. */
async function phase(app: App, during: () => Promise<unknown>): Promise<Phase> {
  const c = app.tracker.counters;
  const [t0, parts, escaped, failsafe] = [Date.now(), c.triggered, c.escaped, c.failsafe()];
  const cpu = process.cpuUsage();
  const lag = monitorEventLoopDelay({ resolution: 5 });
  lag.enable();
  await during();
  lag.disable();
  const used = process.cpuUsage(cpu);
  return {
    cpuPercent: ((used.user + used.system) / 1000 / (Date.now() - t0)) * 100,
    seconds: (Date.now() - t0) / 1000,
    parts: c.triggered - parts,
    escaped: c.escaped - escaped,
    failsafe: c.failsafe() - failsafe,
    lagP99: lag.percentile(99) / 1e6,
    lagMax: lag.max / 1e6,
  };
}

function fmt(p: Phase): string {
  return `${p.seconds.toFixed(1)} s, ${p.parts} parts, ${p.escaped} escaped, ${p.failsafe} fail-safe, loop lag p99 ${p.lagP99.toFixed(0)} ms max ${p.lagMax.toFixed(0)} ms, this process ${p.cpuPercent.toFixed(0)} % CPU`;
}

const FLOOD = ["test-reject", "reload-config", "snapshot", "set-threshold", "resume"] as const;

test(`a flood of ${PER_COMMAND} each of ${FLOOD.join(", ")} from an allowed identity while the line runs: refused beyond the rates, every one answered or counted, the expensive ones bounded, the books balanced`, async () => {
  const broker = await Mosquitto.start();
  const yaml = `${BASE_YAML}${mqttYaml(broker.url)}`;
  const app = new App(lineConfig(yaml), quietLog(), {
    engine: { module: new URL("../fakes/truth-detector.js", import.meta.url).href, options: { labels: LABELS }, queue: 4, hangTimeoutMs: 2000, loadTimeoutMs: 10_000 },
  });
  // reload-config really re-reads (and re-validates) the config: the expensive path.
  app.configSource = () => lineConfig(yaml);
  const ctl = await attacker(broker.url, "flood");
  let replies = 0;
  const acceptedBy: Record<string, number> = {};
  ctl.on("message", (_t, p) => {
    replies++;
    const r = JSON.parse(p.toString()) as { ok: boolean; command: string };
    if (r.ok) acceptedBy[r.command] = (acceptedBy[r.command] ?? 0) + 1;
  });
  await ctl.subscribeAsync(topic(station, "cmd/+/reply"), { qos: 1 });
  try {
    await app.start();
    await connected(app);
    // The same line without the flood first, for as long as a flood takes on an idle machine:
    // what a loaded machine costs the line by itself.
    const quiet = await phase(app, () => sleep(8000));
    const t0 = Date.now();
    // From other processes, all at once: the attacker's own work must not land on the station's event loop.
    const sending = Promise.all(
      FLOOD.map((name) =>
        publishFromProcess(broker.url, [
          { topic: topic(station, `cmd/${name}`), payload: JSON.stringify({ from: OPERATOR, ...(name === "set-threshold" && { threshold: 0.5 }) }), count: PER_COMMAND },
        ]),
      ),
    );
    const total = PER_COMMAND * FLOOD.length;
    const c = app.commands.counts;
    const flood = await phase(app, async () => {
      await sending;
      await until("every command accounted for", () => c.accepted + c.refused === total, 120_000);
    });
    const elapsedS = (Date.now() - t0) / 1000;
    await until("every reply in or counted as dropped", () => replies + c.repliesDropped === total, 30_000);
    await app.pipeline.stopIntake();
    await app.tracker.idle();
    const s = app.summary();
    console.log(
      `flood: ${total} commands in ${elapsedS.toFixed(1)} s: accepted ${JSON.stringify(acceptedBy)}, refused ${JSON.stringify(c.refusedByCode)}, replies ${replies}, dropped replies ${c.repliesDropped}; ` +
        `parts ${s.triggered} (truth: ${JSON.stringify(s.truth)}); quiet ${fmt(quiet)}; flood ${fmt(flood)}`,
    );
    // Beyond the rates a coded refusal, never a queue: the rates bound what was accepted
    // (each bucket's burst, then its rate over the flood), so the ejector takes at most
    // one test pulse a second and the event loop one reload every 5 s.
    assert.ok(c.refusedByCode.E_CMD_RATE! > 0);
    assert.equal(c.accepted, Object.values(acceptedBy).reduce((a, b) => a + b, 0), "every accepted command was answered");
    assert.ok(c.accepted <= 20 + 10 * elapsedS, `accepted ${c.accepted} in ${elapsedS} s`);
    const bound = { "test-reject": 1 + elapsedS, snapshot: 1 + elapsedS, "reload-config": 1 + 0.2 * elapsedS };
    for (const [name, max] of Object.entries(bound)) assert.ok((acceptedBy[name] ?? 0) <= max, `${name}: ${acceptedBy[name]} accepted in ${elapsedS.toFixed(1)} s`);
    // The books balance through the flood. (Escapes and fail-safe parts are reported above:
    // 0 on an otherwise idle machine; on a loaded one they measure the machine, not the flood.)
    assert.equal(s.invariant_ok, true);
    assert.equal(s.in_flight, 0);
    assert.equal(s.triggered, s.accepted + s.rejected);
    assert.ok(s.truth!.parts > 0 && s.truth!.defective > 0);
  } finally {
    await app.stop("test done");
    await ctl.endAsync(true);
    await broker.close();
  }
});
