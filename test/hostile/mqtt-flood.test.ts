import { test } from "node:test";
import assert from "node:assert/strict";
import { App } from "../../daemon/app.js";
import { topic } from "../../daemon/publish/topics.js";
import { BASE_YAML, lineConfig } from "../fakes/line.js";
import { Mosquitto } from "../fakes/mosquitto.js";
import { quietLog } from "../fakes/quiet-log.js";
import { OPERATOR, attacker, connected, mqttYaml, station, until } from "./mqtt-station.js";

const LABELS = ["ok", "scratch", "crack", "stain", "missing_hole"];
const PER_COMMAND = 3000;
const FLOOD = ["test-reject", "reload-config", "snapshot", "set-threshold", "resume"] as const;

test(`a flood of ${PER_COMMAND} each of ${FLOOD.join(", ")} from an allowed identity while the line runs: refused beyond the rates, every one answered or counted, no part escapes`, async () => {
  const broker = await Mosquitto.start();
  const yaml = `${BASE_YAML}${mqttYaml(broker.url)}`;
  const app = new App(lineConfig(yaml), quietLog(), {
    engine: { module: new URL("../fakes/truth-detector.js", import.meta.url).href, options: { labels: LABELS }, queue: 4, hangTimeoutMs: 2000, loadTimeoutMs: 10_000 },
  });
  // reload-config really re-reads (and re-validates) the config: the expensive path.
  app.configSource = () => lineConfig(yaml);
  const ctl = await attacker(broker.url, "flood");
  let replies = 0;
  ctl.on("message", () => replies++);
  await ctl.subscribeAsync(topic(station, "cmd/+/reply"), { qos: 1 });
  try {
    await app.start();
    await connected(app);
    const t0 = Date.now();
    const sent: Array<Promise<unknown>> = [];
    for (let i = 0; i < PER_COMMAND; i++) {
      for (const name of FLOOD) {
        const body = name === "set-threshold" ? { threshold: 0.5 } : {};
        sent.push(ctl.publishAsync(topic(station, `cmd/${name}`), JSON.stringify({ from: OPERATOR, ...body }), { qos: 1 }));
      }
    }
    await Promise.all(sent);
    const total = PER_COMMAND * FLOOD.length;
    const c = app.commands.counts;
    await until("every command accounted for", () => c.accepted + c.refused === total, 120_000);
    const elapsedS = (Date.now() - t0) / 1000;
    await until("every reply in or counted as dropped", () => replies + c.repliesDropped === total, 30_000);
    await app.pipeline.stopIntake();
    await app.tracker.idle();
    const s = app.summary();
    console.log(
      `flood: ${total} commands in ${elapsedS.toFixed(1)} s: accepted ${c.accepted}, refused ${JSON.stringify(c.refusedByCode)}, replies ${replies}, dropped replies ${c.repliesDropped}; ` +
        `parts ${s.triggered} (truth: ${JSON.stringify(s.truth)}), fail-safe ${s.failsafe}, event-loop lag p99 ${s.event_loop_lag_ms.p99} ms, max ${s.event_loop_lag_ms.max} ms`,
    );
    // Beyond the rates a coded refusal, never a queue: the overall rate bounds what was accepted.
    assert.ok(c.refusedByCode.E_CMD_RATE! > 0);
    assert.ok(c.accepted <= 20 + 10 * elapsedS + 1, `accepted ${c.accepted} in ${elapsedS} s`);
    // No command traffic costs a part.
    assert.equal(s.invariant_ok, true);
    assert.equal(s.in_flight, 0);
    assert.equal(s.triggered, s.accepted + s.rejected);
    assert.equal(s.escaped, 0);
    assert.equal(s.truth!.escaped, 0);
    assert.ok(s.truth!.parts > 0 && s.truth!.defective > 0);
    assert.equal(s.failsafe, 0, "no part failed safe (on an otherwise idle machine)");
  } finally {
    await app.stop("test done");
    await ctl.endAsync(true);
    await broker.close();
  }
});
