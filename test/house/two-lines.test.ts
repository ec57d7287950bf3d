import { test } from "node:test";
import assert from "node:assert/strict";
import { renameSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { App } from "../../daemon/app.js";
import { writeSyntheticDataset } from "../../daemon/capture/synthetic-dataset.js";
import type { MemoryPublisher } from "../../daemon/publish/memory-publisher.js";
import type { SettledPart } from "../../daemon/pipeline/part.js";
import { lineConfig } from "../fakes/line.js";
import { quietLog } from "../fakes/quiet-log.js";
import { Mosquitto } from "../fakes/mosquitto.js";
import { commander } from "../fakes/commander.js";
import type { Line } from "../../daemon/house/line.js";
import { sleep } from "../../daemon/util/clock.js";
import { tempDir, waitFor } from "../capture/camera-fixtures.js";

/**
 * Two lines on one station: lane1 triggered from a recorded video (taken away
 * mid-run: its camera is gone), lane2 free-run from the synthetic camera.
 */
function twoLines(dir: string): { yaml: string; video: string } {
  writeSyntheticDataset({ out: dir, parts: 10, seed: 2, defectRate: 0.3, width: 160, height: 120, fps: 50, video: "line.avi", images: false });
  const video = join(dir, "line.avi");
  const yaml = `
station: { site: t, device: d1 }
data_dir: ${JSON.stringify(join(dir, "data"))}
records: { type: sqlite }
publish: { type: memory }
http: { enabled: false }
lifecycle: { progress_report_ms: 60000 }
engine: { type: simulated, latency_ms: 2, error_rate: 0 }
actuation: { window_ms: 100 }
lines:
  lane1:
    line: { mode: triggered, travel_ms: 300, decision_margin_ms: 20, frame_tolerance_ms: 40 }
    camera: { type: file, path: ${JSON.stringify(video)}, loop: true, fps: 50, reconnect: { initial_ms: 50, max_ms: 200 } }
    trigger: { type: simulated, rate_hz: 20 }
    actuation: { reject: { name: reject_1 } }
  lane2:
    line: { mode: free-run, travel_ms: 300, decision_margin_ms: 20 }
    camera: { type: synthetic, width: 320, height: 240, fps: 30, seed: 3, defect_rate: 0.3 }
    actuation: { reject: { name: reject_2 } }
`;
  return { yaml, video };
}

test("two lines on one station: books per line, every part recorded and published once with its line, ids never collide; one line's lost camera fails only its own parts safe", async (t) => {
  const dir = tempDir(t);
  const { yaml, video } = twoLines(dir);
  const app = new App(lineConfig(yaml), quietLog());
  assert.deepEqual(app.lines.map((l) => l.name), ["lane1", "lane2"]);
  const settled: SettledPart[] = [];
  app.addSettledListener((p) => {
    settled.push(p);
    for (const l of app.lines) assert.equal(l.tracker.checkInvariant(), true, `line ${l.name}'s books at part ${p.id}`);
  });
  const judged = (line: string) => settled.filter((p) => p.line === line && p.judgement.verdict !== "unknown").length;
  await app.start();
  try {
    await waitFor("both lines judging", () => judged("lane1") >= 10 && judged("lane2") >= 10);
    renameSync(video, `${video}.moved`);
    await waitFor("lane1's parts failing safe", () => settled.filter((p) => p.line === "lane1" && p.judgement.failsafe === "no-frame").length >= 5);
    // While lane1 has no camera, lane2 goes on judging its parts.
    const lane2Before = judged("lane2");
    await waitFor("lane2 judging on", () => judged("lane2") >= lane2Before + 10);
    const noFrame = settled.filter((p) => p.judgement.failsafe === "no-frame");
    assert.ok(noFrame.every((p) => p.line === "lane1"), "no part of lane2 failed safe for lane1's camera");
    renameSync(`${video}.moved`, video);
  } finally {
    await app.stop("test done");
  }
  const summaries = app.lineSummaries();
  for (const [name, s] of Object.entries(summaries)) {
    assert.equal(s.in_flight, 0, name);
    assert.equal(s.invariant_ok, true, name);
    assert.equal(s.triggered, s.accepted + s.rejected, name);
    assert.equal(s.triggered, settled.filter((p) => p.line === name).length, `every part of ${name} settled once`);
  }
  assert.equal(new Set(settled.map((p) => p.id)).size, settled.length, "part ids are the station's: none repeats across lines");

  // Every part on record once, with its line; the defect messages name their line in the topic.
  const db = new Database(join(dir, "data", "records.sqlite"), { readonly: true });
  try {
    const rows = db.prepare("SELECT part_id AS id, line FROM inspections WHERE run_id = (SELECT max(id) FROM runs)").all() as Array<{ id: number; line: string }>;
    assert.equal(rows.length, settled.length);
    const byId = new Map(rows.map((r) => [r.id, r.line]));
    for (const p of settled) assert.equal(byId.get(p.id), p.line, `part ${p.id}'s row names its line`);
  } finally {
    db.close();
  }
  const defects = (app.publisher as MemoryPublisher).received.filter((m) => m.topic.endsWith("/defects"));
  const rejected = settled.filter((p) => p.outcome === "rejected");
  assert.equal(defects.length, rejected.length, "one defect message per rejected part");
  assert.equal(new Set(defects.map((m) => JSON.parse(m.payload).id)).size, defects.length, "message ids never collide");
  for (const m of defects) {
    const part = rejected.find((p) => p.id === JSON.parse(m.payload).part)!;
    assert.match(m.topic, new RegExp(`/${part.line}/`), `the defect of part ${part.id} is on its line's topic`);
  }
  // The periodic metrics carry each line under its name, and the station's totals.
  const metrics = app.metrics() as { triggered: number; lines: Record<string, { triggered: number }> };
  assert.equal(metrics.triggered, metrics.lines.lane1!.triggered + metrics.lines.lane2!.triggered);
});

test("commands on a two-line station: a command names its line or acts on every line; one-thing commands need a line", async (t) => {
  const broker = await Mosquitto.start();
  t.after(() => broker.stop());
  const dir = tempDir(t);
  const yaml = `
station: { site: t, device: d1 }
data_dir: ${JSON.stringify(join(dir, "data"))}
publish: { type: mqtt, url: ${broker.url}, reconnect_ms: 100, commands: { allow: [operator-1], rates: { pause: { per_s: 100, burst: 20 }, set-threshold: { per_s: 100, burst: 20 }, test-reject: { per_s: 100, burst: 20 }, snapshot: { per_s: 100, burst: 20 } } } }
http: { enabled: false }
lifecycle: { progress_report_ms: 60000 }
engine: { type: simulated, latency_ms: 2, error_rate: 0 }
camera: { type: synthetic, width: 320, height: 240, fps: 30, seed: 3, defect_rate: 0.3 }
line: { mode: free-run, travel_ms: 300, decision_margin_ms: 20 }
actuation: { window_ms: 100 }
lines:
  lane1: { actuation: { reject: { name: reject_1 } } }
  lane2: { actuation: { reject: { name: reject_2 } } }
`;
  const app = new App(lineConfig(yaml), quietLog());
  // Commands are on the first line's tree, as status and metrics.
  const { ctl, request } = await commander(broker.url, "ctl", { site: "t", line: "lane1", device: "d1" });
  const [lane1, lane2] = app.lines as [Line, Line];
  try {
    await app.start();
    while (!app.publisher.connected()) await sleep(20);
    const ok = async (name: string, body: Record<string, unknown>) => {
      const r = await request(name, body);
      assert.equal(r.ok, true, `${name} ${JSON.stringify(body)}: ${JSON.stringify(r)}`);
      return r;
    };
    const refused = async (name: string, body: Record<string, unknown>, message: RegExp) => {
      const r = await request(name, body);
      assert.equal((r.error as { code: string }).code, "E_CMD_INVALID", JSON.stringify(r));
      assert.match((r.error as { message: string }).message, message);
    };
    await ok("pause", { line: "lane2" });
    assert.deepEqual([lane1.pipeline.paused, lane2.pipeline.paused], [false, true]);
    // A paused free-run line takes no parts; the other goes on.
    await lane2.tracker.idle();
    const [t1, t2] = [lane1.tracker.counters.triggered, lane2.tracker.counters.triggered];
    await waitFor("lane1's parts", () => lane1.tracker.counters.triggered >= t1 + 10);
    assert.equal(lane2.tracker.counters.triggered, t2);
    await ok("resume", {});
    assert.deepEqual([lane1.pipeline.paused, lane2.pipeline.paused], [false, false]);

    await ok("set-threshold", { line: "lane1", threshold: 0.8 });
    assert.equal(lane1.pipeline.decideSettings.threshold, 0.8);
    assert.notEqual(lane2.pipeline.decideSettings.threshold, 0.8, "the other line keeps its own");
    await ok("set-threshold", { threshold: 0.7 });
    assert.deepEqual([lane1.pipeline.decideSettings.threshold, lane2.pipeline.decideSettings.threshold], [0.7, 0.7]);

    await refused("test-reject", {}, /name the line this acts on \(lane1, lane2\)/);
    await refused("snapshot", {}, /name the line/);
    await refused("pause", { line: "lane9" }, /no line 'lane9' on this station \(lane1, lane2\)/);
    await refused("reload-config", { line: "lane1" }, /reloads the whole station/);
    await ok("test-reject", { line: "lane2" });
  } finally {
    await app.stop("test done");
    await ctl.endAsync();
  }
  // Each line's overrides are its own file, kept for the next start.
  const fresh = new App(lineConfig(yaml), quietLog());
  for (const l of fresh.lines) l.overrides.load();
  assert.deepEqual(fresh.lines.map((l) => l.overrides.view().threshold?.value), [0.7, 0.7]);
});
