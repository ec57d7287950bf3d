import { test } from "node:test";
import assert from "node:assert/strict";
import { cpSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { App } from "../../daemon/app.js";
import { writeSyntheticDataset } from "../../daemon/capture/synthetic-dataset.js";
import type { MemoryPublisher } from "../../daemon/publish/memory-publisher.js";
import type { SettledPart } from "../../daemon/pipeline/part.js";
import { readImageHeader } from "../../daemon/vision/image-header.js";
import { lineConfig } from "../fakes/line.js";
import { quietLog } from "../fakes/quiet-log.js";
import { tempDir, waitFor } from "../capture/camera-fixtures.js";
import { nowMs, sleep } from "../../daemon/util/clock.js";
import { launchChromium, SCREENSHOTS } from "../http/browser.js";
import { parsePrometheusText, sample } from "../http/prom-text.js";
import { CLASSIFIER } from "../inference/fixtures.js";

/** A copy of a model package under another version (model.yaml itself is not hashed). */
function copyOf(pkg: string, version: string, dir: string): string {
  const to = join(dir, `model-${version}`);
  cpSync(pkg, to, { recursive: true });
  const yaml = join(to, "model.yaml");
  writeFileSync(yaml, readFileSync(yaml, "utf8").replace("version: 1.0.0", `version: ${version}`));
  return to;
}

type Row = { id: number; part_id: number; outcome: string; verdict: string; reason: string; failsafe: string | null; detail: string | null; snapshot_path: string | null };
type ViewRow = { view: string; verdict: string; class: string | null; failsafe: string | null };

/**
 * One triggered line seen by two cameras: `top` renders the synthetic line,
 * `bottom` plays a recorded video that is taken away mid-run. Every part is
 * judged on both; its verdict is the worst view's.
 */
test("views: one trigger captures from each view, each is judged; the part gets the worst view's verdict, every view's verdict is on record, published and in one snapshot; a lost view fails only what no other view rejects", async (t) => {
  const dir = tempDir(t);
  writeSyntheticDataset({ out: dir, parts: 10, seed: 2, defectRate: 0.3, width: 160, height: 120, fps: 50, video: "bottom.avi", images: false });
  const video = join(dir, "bottom.avi");
  const app = new App(
    lineConfig(`
station: { site: t, line: l1, device: d1 }
data_dir: ${JSON.stringify(join(dir, "data"))}
records: { type: sqlite }
publish: { type: memory }
http: { port: 0, auth: { anonymous: viewer } }
lifecycle: { progress_report_ms: 60000 }
engine: { type: simulated, latency_ms: 2, error_rate: 0 }
actuation: { window_ms: 100 }
line: { mode: triggered, travel_ms: 300, decision_margin_ms: 20, frame_tolerance_ms: 40 }
trigger: { type: simulated, rate_hz: 20 }
snapshots: { rejected: true }
views:
  top: { camera: { type: synthetic, width: 320, height: 240, fps: 50, seed: 3, defect_rate: 0.3 } }
  bottom: { camera: { type: file, path: ${JSON.stringify(video)}, loop: true, fps: 50, reconnect: { initial_ms: 50, max_ms: 200 } } }
`),
    quietLog(),
  );
  assert.deepEqual(app.line.views.map((v) => v.name), ["top", "bottom"]);
  const settled: SettledPart[] = [];
  app.addSettledListener((p) => {
    settled.push(p);
    assert.equal(app.tracker.checkInvariant(), true, `books at part ${p.id}`);
  });
  const both = () => settled.filter((p) => p.judgement.views?.every((v) => v.verdict !== "unknown"));
  await app.start();
  try {
    await waitFor("parts judged on both views", () => both().length >= 10 && both().some((p) => p.outcome === "rejected"));
    renameSync(video, `${video}.moved`);
    // Without its bottom camera, a part the top view rejects is still rejected for its class; the others fail safe.
    const bottomLost = () => settled.filter((p) => p.judgement.views?.find((v) => v.view === "bottom")?.failsafe === "no-frame");
    await waitFor("parts without the bottom view, rejected by the top one and failed safe", () => bottomLost().some((p) => p.judgement.verdict === "reject") && bottomLost().some((p) => p.judgement.verdict === "unknown"));
    renameSync(`${video}.moved`, video);
    // The review shows each view's verdict beside the part's, and which view saw each finding.
    const rejected = settled.find((p) => p.outcome === "rejected" && p.judgement.verdict === "reject")!;
    let id: number | undefined;
    for (let before: string | null = null; id === undefined; ) {
      // Newest first: page back until the part's row (written by now, or on its way) turns up.
      const page = (await (await fetch(`${app.http!.url}/api/defects?limit=200${before ? `&before=${before}` : ""}`)).json()) as { items: Array<{ id: number; part_id: number }>; next: string | null };
      id = page.items.find((i) => i.part_id === rejected.id)?.id;
      before = page.next;
      if (id === undefined && before === null) await sleep(200);
    }
    const detail = (await (await fetch(`${app.http!.url}/api/defects/${id}`)).json()) as { views: Array<{ view: string; verdict: string }>; findings: Array<{ view?: string }> };
    assert.deepEqual(detail.views.map((v) => [v.view, v.verdict]), rejected.judgement.views!.map((v) => [v.view, v.verdict]));
    assert.ok(detail.findings.every((f) => f.view === "top" || f.view === "bottom"));
    // /healthz says each view's camera.
    const health = (await (await fetch(`${app.http!.url}/healthz`)).json()) as { lines: Array<{ line: string; views: Array<{ view: string; camera_connected: boolean }> }> };
    assert.deepEqual(health.lines.map((l) => [l.line, l.views.map((v) => v.view)]), [["l1", ["top", "bottom"]]]);
    // /metrics has each view's camera under its name.
    const metrics = parsePrometheusText(await (await fetch(`${app.http!.url}/metrics`)).text());
    for (const view of ["top", "bottom"]) assert.ok((sample(metrics, "edge_inspect_camera_frames_total", "edge_inspect_camera_frames_total", { line: "l1", view }) ?? 0) > 0, `${view}'s frames`);
    assert.equal(sample(metrics, "edge_inspect_camera_connected", "edge_inspect_camera_connected", { line: "l1", view: "top" }), 1);
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      page.setDefaultTimeout(90_000);
      await page.goto(`${app.http!.url}/defects/${id}`);
      await page.waitForSelector("#views tr.view");
      assert.deepEqual(await page.$$eval("#views tr.view td:first-child", (tds) => tds.map((td) => td.textContent)), ["top", "bottom"]);
      await page.screenshot({ path: join(SCREENSHOTS, "defect-views.png") });
    } finally {
      await browser.close();
    }
  } finally {
    await app.stop("test done");
  }
  const s = app.summary();
  assert.equal(s.in_flight, 0);
  assert.equal(s.invariant_ok, true);
  assert.equal(s.triggered, settled.length, "every part settled once");

  for (const p of settled) {
    const views = p.judgement.views;
    if (!views) {
      // Only a part the tracker failed safe before its views answered (its deadline passed: a busy machine) has none.
      assert.ok(p.judgement.failsafe === "late" || p.judgement.failsafe === "overload", `part ${p.id} has its views' verdicts (${p.reason})`);
      continue;
    }
    assert.deepEqual(views.map((v) => v.view), ["top", "bottom"]);
    const worst = views.some((v) => v.verdict === "reject") ? "reject" : views.some((v) => v.verdict === "unknown") ? "unknown" : "pass";
    assert.equal(p.judgement.verdict, worst, `part ${p.id}: the worst view's verdict (${views.map((v) => `${v.view} ${v.verdict}`).join(", ")})`);
    if (worst === "reject") {
      assert.ok(p.judgement.findings.length > 0 && p.judgement.findings.every((f) => views.find((v) => v.view === f.view)?.verdict === "reject"), `part ${p.id}: each finding names a view that rejected`);
      assert.doesNotMatch(p.reason, /^failsafe/);
    }
    if (worst === "unknown") assert.match(p.judgement.detail ?? "", /^view (top|bottom): /, `part ${p.id}'s detail names the view without a verdict`);
  }

  const db = new Database(join(dir, "data", "records.sqlite"), { readonly: true });
  try {
    const rows = db.prepare("SELECT id, part_id, outcome, verdict, reason, failsafe, detail, snapshot_path FROM inspections").all() as Row[];
    assert.equal(rows.length, settled.length, "every part on record once");
    const viewRows = db.prepare("SELECT view, verdict, class, failsafe FROM inspection_views WHERE inspection_id = ? ORDER BY rowid");
    const defectViews = db.prepare("SELECT DISTINCT view FROM defects WHERE inspection_id = ?");
    for (const r of rows) {
      const p = settled.find((x) => x.id === r.part_id)!;
      const vs = viewRows.all(r.id) as ViewRow[];
      if (!p.judgement.views) continue;
      assert.deepEqual(vs.map((v) => [v.view, v.verdict, v.failsafe]), p.judgement.views!.map((v) => [v.view, v.verdict, v.failsafe ?? null]), `part ${p.id}'s view rows`);
      if (r.outcome === "rejected" && r.verdict === "reject") {
        const seen = (defectViews.all(r.id) as Array<{ view: string | null }>).map((d) => d.view);
        assert.ok(seen.length > 0 && seen.every((v) => v === "top" || v === "bottom"), `part ${p.id}'s defects name their view`);
      }
    }
    // A snapshot of a part judged on both views holds both side by side: top 320x240, bottom 160x120 scaled to 240 high.
    const snapped = rows.find((r) => r.snapshot_path && r.verdict === "reject" && (viewRows.all(r.id) as ViewRow[]).every((v) => v.verdict !== "unknown"));
    assert.ok(snapped, "a rejected part judged on both views has a snapshot");
    assert.deepEqual(readImageHeader(readFileSync(join(dir, "data", "snapshots", snapped.snapshot_path!))), { format: "jpeg", width: 640, height: 240 });
  } finally {
    db.close();
  }

  const messages = (app.publisher as MemoryPublisher).received.filter((m) => m.topic.endsWith("/defects")).map((m) => JSON.parse(m.payload) as { part: number; failsafe: string | null; classes: string[]; seen_by: string[]; views?: Array<{ view: string; verdict: string }> });
  assert.equal(messages.length, settled.filter((p) => p.outcome === "rejected").length, "one defect message per rejected part");
  for (const m of messages) {
    if (!m.views) {
      assert.ok(m.failsafe === "late" || m.failsafe === "overload", `part ${m.part}'s message carries its views`);
      continue;
    }
    assert.equal(m.seen_by.length, m.classes.length);
    assert.deepEqual(m.views.map((v) => v.view), ["top", "bottom"], `part ${m.part}'s message carries each view's verdict`);
  }
});

test("views in free-run: the first view's frames make the parts, the other view's are paired with them by capture time", async (t) => {
  const dir = tempDir(t);
  const app = new App(
    lineConfig(`
station: { site: t, line: l1, device: d1 }
data_dir: ${JSON.stringify(join(dir, "data"))}
records: { type: memory }
publish: { type: memory }
http: { enabled: false }
lifecycle: { progress_report_ms: 60000 }
engine: { type: simulated, latency_ms: 2, error_rate: 0 }
line: { mode: free-run, travel_ms: 300, decision_margin_ms: 20, frame_tolerance_ms: 60 }
camera: { type: synthetic, width: 160, height: 120, fps: 25, defect_rate: 0.3 }
views:
  left: { camera: { seed: 3 } }
  right: { camera: { seed: 4, fps: 40 } }
`),
    quietLog(),
  );
  const settled: SettledPart[] = [];
  app.addSettledListener((p) => settled.push(p));
  await app.start();
  try {
    await waitFor("parts judged on both views", () => settled.filter((p) => p.judgement.views?.every((v) => v.verdict !== "unknown")).length >= 10);
  } finally {
    await app.stop("test done");
  }
  const s = app.summary();
  assert.equal(s.invariant_ok, true);
  assert.equal(s.triggered, settled.length);
  const seqs = settled.map((p) => p.judgement.views?.find((v) => v.view === "right")?.frameSeq).filter((x): x is number => x !== undefined);
  assert.equal(new Set(seqs).size > 1, true, "the right view's frames follow the parts");
  for (const p of settled) assert.deepEqual(p.judgement.views?.map((v) => v.view), ["left", "right"]);
});

test("views and a model swap: swap-model moves every view judged by the line's engine, a view with a model of its own keeps it; a reload changing the views needs a restart", async (t) => {
  const dir = tempDir(t);
  const pkg = copyOf(CLASSIFIER, "2.0.0", dir);
  const yaml = `
station: { site: t, line: l1, device: d1 }
data_dir: ${JSON.stringify(join(dir, "data"))}
records: { type: memory }
publish: { type: memory }
http: { enabled: false }
lifecycle: { progress_report_ms: 60000 }
engine: { type: onnx, package: ${JSON.stringify(CLASSIFIER)}, variant: float32, providers: [cpu], threads: { intra_op: 1 } }
line: { mode: free-run, travel_ms: 400, decision_margin_ms: 20, frame_tolerance_ms: 80 }
actuation: { window_ms: 100 }
camera: { type: synthetic, width: 160, height: 120, fps: 10, defect_rate: 0.3 }
views:
  top: { camera: { seed: 3 } }
  bottom: { camera: { seed: 4 } }
  side: { camera: { seed: 5 }, engine: { variant: int8 } }
`;
  const app = new App(lineConfig(yaml), quietLog());
  await app.start();
  try {
    const versions = () => app.line.views.map((v) => `${v.name} ${v.model.info?.version}`);
    assert.deepEqual(versions(), ["top 1.0.0", "bottom 1.0.0", "side 1.0.0"]);
    assert.equal(app.line.modelVersion(), "1.0.0");
    const info = await app.swapModel(pkg, "float32");
    assert.equal(info.version, "2.0.0");
    assert.deepEqual(versions(), ["top 2.0.0", "bottom 2.0.0", "side 1.0.0"], "the side view has a model of its own");
    assert.equal(app.line.modelVersion(), "2.0.0+1.0.0");
    // A part triggered once the swap is done: parts in flight during it were judged by either model.
    const swapped = nowMs();
    const settled: SettledPart[] = [];
    app.addSettledListener((p) => p.tTriggerMs > swapped && settled.push(p));
    await waitFor("parts judged after the swap", () => settled.some((p) => p.judgement.views?.every((v) => v.verdict !== "unknown")));
    const judged = settled.find((p) => p.judgement.views?.every((v) => v.verdict !== "unknown"))!;
    assert.deepEqual(judged.judgement.views!.map((v) => v.modelVersion), ["2.0.0", "2.0.0", "1.0.0"]);
    await assert.rejects(app.reloadConfig(lineConfig(yaml.replace("seed: 5", "seed: 6"))), { code: "E_RELOAD_RESTART" });
  } finally {
    await app.stop("test done");
  }
});
