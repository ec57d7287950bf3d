import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { App } from "../../daemon/app.js";
import { MemoryPublisher } from "../../daemon/publish/memory-publisher.js";
import { cv } from "../../daemon/vision/opencv.js";
import { lineConfig, runParts } from "../fakes/line.js";
import { quietLog } from "../fakes/quiet-log.js";

const UNJUDGED = ["failsafe:late", "failsafe:overload", "failsafe:no-frame"];

test("rejected parts are recorded with a JPEG snapshot that the defect message names; passed parts are sampled", async () => {
  const dir = mkdtempSync(join(tmpdir(), "ei-snap-"));
  const config = lineConfig(`
data_dir: ${dir}
line: { mode: free-run, travel_ms: 300 }
camera: { type: synthetic, width: 320, height: 240, fps: 30, seed: 11, defect_rate: 0.5 }
engine: { type: simulated, latency_ms: 1, error_rate: 0 }
records: { type: sqlite }
snapshots: { rejected: true, accepted_sample: 0, quality: 70 }
http: { enabled: false }
actuation: { window_ms: 100 }
`);
  const publisher = new MemoryPublisher();
  const app = new App(config, quietLog(), { publisher });
  const { summary } = await runParts(app, 30);
  assert.ok(summary.rejected > 3 && summary.accepted > 3, JSON.stringify(summary));

  const db = new Database(join(dir, "records.sqlite"), { readonly: true });
  const rows = db.prepare("SELECT part_id, outcome, verdict, reason, snapshot_path FROM inspections").all() as Array<{ part_id: number; outcome: string; verdict: string; reason: string; snapshot_path: string | null }>;
  db.close();
  assert.equal(rows.length, 30);
  const messages = new Map(publisher.received.map((m) => [(JSON.parse(m.payload) as { part: number }).part, JSON.parse(m.payload) as { snapshot: string | null }]));
  let checked = 0;
  for (const r of rows) {
    if (r.verdict === "pass") {
      assert.equal(r.snapshot_path, null, `passed part ${r.part_id} has no snapshot at sample 0`);
      continue;
    }
    // A part that failed safe before the engine answered for its frame (late,
    // on a slow or busy board) was settled without a judged frame to keep.
    if (r.outcome !== "rejected" || UNJUDGED.includes(r.reason)) continue;
    checked++;
    assert.ok(r.snapshot_path, `rejected part ${r.part_id} (${r.reason}) has a snapshot`);
    const file = join(dir, "snapshots", r.snapshot_path);
    assert.ok(existsSync(file));
    const img = cv.imdecode(readFileSync(file));
    assert.deepEqual([img.cols, img.rows], [320, 240]);
    assert.equal(messages.get(r.part_id)?.snapshot, r.snapshot_path, "the defect message names the same file");
  }
  assert.ok(checked > 0, `no part rejected after its frame was judged: ${JSON.stringify(rows.map((r) => r.reason))}`);
});
