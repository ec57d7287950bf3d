import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mqtt from "mqtt";
import Database from "better-sqlite3";
import { sleep } from "../../daemon/util/clock.js";
import { Mosquitto } from "../fakes/mosquitto.js";
import { startCli, waitForOutput } from "../cli/cli-helpers.js";

const STOP_TIMEOUT_MS = 3000;

async function until(what: string, cond: () => boolean, timeoutMs = 60_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/**
 * `stopped`: the broker is gone, connections are refused. `frozen`: the broker
 * is there but answers nothing (SIGSTOP), as behind a dead link: the station
 * still believes it is connected, with publishes awaiting their PUBACK.
 */
async function stopWithBrokerAway(how: "stopped" | "frozen"): Promise<void> {
  const broker = await Mosquitto.start({ persistence: true });
  const dir = mkdtempSync(join(tmpdir(), "ei-stop-"));
  const config = join(dir, "line.yaml");
  writeFileSync(
    config,
    `station: { site: plant, line: l1, device: cam1 }
data_dir: ${dir}
line: { mode: free-run, travel_ms: 300 }
camera: { type: synthetic, width: 320, height: 240, fps: 40, seed: 5, defect_rate: 0.4 }
engine: { type: simulated, latency_ms: 2 }
records: { type: sqlite }
http: { enabled: false }
actuation: { window_ms: 100 }
lifecycle: { stop_timeout_ms: ${STOP_TIMEOUT_MS}, progress_report_ms: 60000 }
publish: { type: mqtt, url: ${broker.url}, reconnect_ms: 200, connect_timeout_ms: 10000 }
`,
  );
  // The plant's historian: a persistent session, so the broker queues for it while either side is away.
  const received = new Set<string>();
  const sub = mqtt.connect(broker.url, { clientId: "historian", clean: false, reconnectPeriod: 100, protocolVersion: 4 });
  sub.on("message", (_t, p) => received.add((JSON.parse(p.toString()) as { id: string }).id));
  sub.on("error", () => undefined);
  await new Promise<void>((r) => sub.once("connect", () => r()));
  await sub.subscribeAsync("edge-inspect/plant/l1/cam1/defects", { qos: 1 });

  let stopMs = 0;
  const first = startCli(["run", "--config", config]);
  const killer = setTimeout(() => first.child.kill("SIGKILL"), 60_000);
  try {
    await waitForOutput(first.child, /READY/);
    await until("defects at the historian", () => received.size > 5);
    if (how === "stopped") await broker.stop();
    else broker.freeze();
    // Parts keep coming with the broker away: their defects wait in the outbox.
    await sleep(1500);
    const t0 = Date.now();
    first.child.kill("SIGTERM");
    const r = await first.done;
    stopMs = Date.now() - t0;
    assert.equal(r.code, 0, r.stderr + r.stdout.slice(-2000));
    assert.ok(stopMs <= STOP_TIMEOUT_MS + 1000, `stopped in ${stopMs} ms`);
    assert.match(r.stdout, /outbox not empty at stop/);
    // The summary is printed only once stop() has put the outputs safe.
    assert.match(r.stdout, /books balance/);
  } finally {
    clearTimeout(killer);
  }
  if (how === "frozen") {
    broker.thaw();
    await broker.stop();
  }

  // Every rejected part of the first run has a defect id in the database.
  const db = new Database(join(dir, "records.sqlite"), { readonly: true });
  const expected = (db.prepare("SELECT run_id, part_id FROM inspections WHERE outcome = 'rejected'").all() as Array<{ run_id: string; part_id: number }>).map(
    (row) => `cam1:${row.run_id}:${row.part_id}`,
  );
  const left = (db.prepare("SELECT count(*) AS n FROM outbox").get() as { n: number }).n;
  db.close();
  assert.ok(left > 0, "some defects were left in the outbox");

  await broker.restart();
  const second = startCli(["run", "--config", config]);
  try {
    await waitForOutput(second.child, /READY/);
    await until("every defect id of the first run at the historian", () => expected.every((id) => received.has(id)));
  } finally {
    second.child.kill("SIGTERM");
    const r2 = await second.done;
    assert.equal(r2.code, 0, r2.stderr);
    await sub.endAsync(true);
    await broker.close();
  }
  const missing = expected.filter((id) => !received.has(id));
  assert.deepEqual(missing, []);
  console.log(`stop with the broker ${how}: exit after ${stopMs} ms (stop_timeout_ms ${STOP_TIMEOUT_MS}); ${expected.length} defects in the first run, ${left} left in the outbox at stop, all delivered after the restart`);
}

test("SIGTERM with the broker unreachable (frozen: connected, answering nothing): exit 0 within stop_timeout_ms + 1 s, summary printed; after the next start the subscriber has every defect id", () =>
  stopWithBrokerAway("frozen"));

test("SIGTERM with the broker stopped: the same", () => stopWithBrokerAway("stopped"));
