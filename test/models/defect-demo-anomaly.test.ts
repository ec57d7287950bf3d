import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { App } from "../../daemon/app.js";
import { MemoryPublisher } from "../../daemon/publish/memory-publisher.js";
import { cv } from "../../daemon/vision/opencv.js";
import { loadModelPackage } from "../../daemon/inference/model-package.js";
import { lineConfig, runParts } from "../fakes/line.js";
import { quietLog } from "../fakes/quiet-log.js";

/**
 * The shipped demo package's anomaly head on a running line: parts with a
 * defect kind the classifier was never trained on (a coloured foreign
 * object, which the head catches on 93-96% of held-out parts) are rejected with reason `anomaly`,
 * recorded with the class, score and box, published, and their snapshots
 * carry the heat map; known defects keep the classifier's reasons.
 */
const DEMO = fileURLToPath(new URL("../../../models/defect-demo", import.meta.url));

test("the demo package carries an anomaly head on its onnx variants, chosen for a false-reject target", () => {
  const pkg = loadModelPackage(DEMO, { engine: "onnx" });
  assert.equal(pkg.anomalyModel, "anomaly.int8.onnx");
  assert.equal(loadModelPackage(DEMO, { engine: "onnx", variant: "float32" }).anomalyModel, "anomaly.onnx");
  const a = pkg.manifest.anomaly!;
  assert.ok(a.threshold > 0 && a.threshold < 1, `threshold ${a.threshold}`);
  assert.ok(a.target_false_reject_rate! <= 0.01);
  assert.ok(pkg.manifest.golden.some((g) => g.expect === "anomaly"), "a golden part only the anomaly head rejects");
});

test("on a line with novel defects, anomaly rejects are recorded, published and their snapshots show the heat map", async () => {
  const dir = mkdtempSync(join(tmpdir(), "ei-anomaly-"));
  const config = lineConfig(`
data_dir: ${dir}
line: { mode: free-run, travel_ms: 600, decision_margin_ms: 20 }
camera: { type: synthetic, width: 640, height: 480, fps: 8, seed: 4242, defect_rate: 0.3, novel_defects: [foreign_object], novel_rate: 0.4 }
engine: { type: onnx, package: ${JSON.stringify(DEMO)}, variant: int8, providers: [cpu], threads: { intra_op: 1 } }
records: { type: sqlite }
snapshots: { rejected: true, accepted_sample: 0, quality: 85 }
http: { enabled: false }
actuation: { window_ms: 150 }
lifecycle: { progress_report_ms: 60000 }
`);
  const publisher = new MemoryPublisher();
  const app = new App(config, quietLog(), { publisher });
  try {
    const { settled } = await runParts(app, 40);
    const novel = settled.filter((p) => p.truth?.novel);
    // The anomaly head's finding follows the classifier's when both fire: the reason is anomaly only when it alone does.
    const anomalous = settled.filter((p) => p.judgement.findings.some((f) => f.class === "anomaly"));
    assert.ok(novel.length >= 8, `${novel.length} novel parts`);
    // Most novel parts are rejected (the held-out rate is in evaluation.json); parts only the anomaly head rejects say so.
    const rejected = novel.filter((p) => p.outcome === "rejected").length;
    assert.ok(rejected >= 0.75 * novel.length, `${rejected} of ${novel.length} novel parts rejected`);
    assert.ok(anomalous.length > 0, `${anomalous.length} anomaly findings on ${novel.length} novel parts`);
    for (const p of anomalous) {
      assert.equal(p.outcome, "rejected");
      if (p.judgement.findings[0]!.class === "anomaly") assert.equal(p.reason, "anomaly");
    }

    const db = new Database(join(dir, "records.sqlite"), { readonly: true });
    const rows = db
      .prepare("SELECT i.part_id, i.reason, i.snapshot_path, d.class, d.score, d.box_w FROM inspections i JOIN defects d ON d.inspection_id = i.id WHERE d.class = 'anomaly'")
      .all() as Array<{ part_id: number; reason: string; snapshot_path: string | null; class: string; score: number; box_w: number | null }>;
    db.close();
    assert.ok(rows.length >= anomalous.length, `${rows.length} anomaly findings recorded`);
    const messages = new Map(publisher.received.map((m) => [(JSON.parse(m.payload) as { part: number }).part, JSON.parse(m.payload) as { reason: string; classes: string[]; boxes: unknown[] }]));
    for (const r of rows) {
      assert.ok(r.score > 0 && r.score <= 1 && r.box_w !== null && r.box_w > 0, JSON.stringify(r));
      const msg = messages.get(r.part_id);
      assert.ok(msg?.classes.includes("anomaly"), `part ${r.part_id}: message ${JSON.stringify(msg)}`);
      assert.ok(r.snapshot_path);
      assert.equal(msg!.reason, r.reason);
      // The heat map is blue where the part looks good: the whole frame leans blue, which a grey line never does.
      const img = cv.imdecode(readFileSync(join(dir, "snapshots", r.snapshot_path)));
      // Vec4 of a BGR Mat: w is blue, y red.
      const { w: b, y: red } = img.mean();
      assert.ok(b - red > 15, `snapshot of part ${r.part_id}: mean B ${b} R ${red}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
