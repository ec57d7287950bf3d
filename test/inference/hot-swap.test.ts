import { test } from "node:test";
import assert from "node:assert/strict";
import { cpSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { App } from "../../daemon/app.js";
import type { SettledPart } from "../../daemon/pipeline/part.js";
import { nowMs } from "../../daemon/util/clock.js";
import { lineConfig } from "../fakes/line.js";
import { quietLog } from "../fakes/quiet-log.js";
import { CLASSIFIER } from "./fixtures.js";

const YAML = `
line: { mode: free-run, travel_ms: 400, decision_margin_ms: 20 }
camera: { type: synthetic, width: 160, height: 120, fps: 40, seed: 5, defect_rate: 0.3 }
engine: { type: onnx, package: ${JSON.stringify(CLASSIFIER)}, variant: float32, providers: [cpu], threads: { intra_op: 1 } }
engine_runtime: { queue: 4, hang_timeout_ms: 3000 }
decide: { thresholds: { stain: 0.7 } }
lifecycle: { progress_report_ms: 60000 }
# Verdicts and swaps are under test, not pulse precision: a loaded machine must not turn a late wake-up into an escape.
actuation: { window_ms: 100 }
`;

/** A copy of the test classifier under another version number (model.yaml itself is not hashed). */
function packageCopy(version: string, breakIt = false): string {
  const dir = mkdtempSync(join(tmpdir(), "swap-"));
  cpSync(CLASSIFIER, dir, { recursive: true });
  const yaml = join(dir, "model.yaml");
  writeFileSync(yaml, readFileSync(yaml, "utf8").replace("version: 1.0.0", `version: ${version}`));
  if (breakIt) truncateSync(join(dir, "model.int8.onnx"), 100);
  return dir;
}

const waitFor = async (cond: () => boolean) => {
  while (!cond()) await new Promise((r) => setTimeout(r, 10));
};

test("an onnx package runs the line: labels and thresholds come from the manifest, decide: overrides them", async () => {
  const app = new App(lineConfig(YAML), quietLog());
  await app.start();
  try {
    assert.deepEqual(app.pipeline.labels, ["ok", "scratch", "stain", "hole"]);
    assert.deepEqual(app.pipeline.decideSettings, { okLabel: "ok", threshold: 0.5, thresholds: { hole: 0.4, stain: 0.7 } });
  } finally {
    await app.stop("test");
  }
});

test("a config naming a class the package lacks refuses to start with path: problem", async () => {
  const app = new App(lineConfig(YAML.replace("stain: 0.7", "crack: 0.7")), quietLog());
  await assert.rejects(app.start(), (err: Error & { code?: string }) => {
    assert.equal(err.code, "E_CONFIG");
    assert.match(err.message, /decide\.thresholds\.crack: 'crack' is not one of the model's labels \(ok, scratch, stain, hole\)/);
    return true;
  });
  await app.stop("test");
});

test("hot swap under load: a bad package is refused and the old model kept; a good one takes over between parts, no part lost", async () => {
  const good = packageCopy("2.0.0");
  const bad = packageCopy("3.0.0", true);
  // The swap logs in the same synchronous step that switches the engine: that instant divides the parts.
  let switchedAt = Infinity;
  const log = pino({ level: "info" }, { write: (line: string) => void (line.includes('"msg":"model swapped') && (switchedAt = nowMs())) });
  const app = new App(lineConfig(YAML), log);
  const settled: SettledPart[] = [];
  app.addSettledListener((p) => {
    settled.push(p);
    assert.equal(app.tracker.checkInvariant(), true);
  });
  try {
    await app.start();
    await waitFor(() => settled.length >= 15);
    await assert.rejects(app.swapModel(bad), (err: Error & { code?: string }) => {
      assert.equal(err.code, "E_MODEL_TRUNCATED");
      assert.match(err.message, /model swap refused, keeping tiny-classifier 1\.0\.0: model\.int8\.onnx: truncated/);
      return true;
    });
    const before = settled.length;
    await waitFor(() => settled.length >= before + 10);
    const info = await app.swapModel(good, "int8");
    const swapped = nowMs();
    assert.equal(info.version, "2.0.0");
    assert.equal(info.package?.variant, "int8");
    const swappedAt = settled.length;
    await waitFor(() => settled.length >= swappedAt + 15);
    const summary = await app.stop("test done");
    assert.equal(summary.in_flight, 0);
    assert.equal(summary.invariant_ok, true);
    assert.equal(summary.triggered, summary.accepted + summary.rejected);
    assert.equal(settled.length, summary.triggered);
    // The line never stopped judging: no part failed safe because of either swap (no engine error, no overload,
    // no lost frame). A busy machine may make a verdict late; that part is rejected, and is the only fail-safe allowed.
    assert.deepEqual(settled.filter((p) => p.judgement.verdict === "unknown" && p.judgement.failsafe !== "late").map((p) => p.reason), []);
    assert.equal(summary.escaped, 0);
    const versions = settled.map((p) => p.modelVersion);
    assert.equal(versions[0], "1.0.0");
    assert.equal(versions[versions.length - 1], "2.0.0");
    // Once the new model answers, the old one never does again.
    const first = versions.indexOf("2.0.0");
    assert.ok(versions.slice(first).every((v) => v === "2.0.0"), versions.join(" "));
    // A part carries the model that judged it, not the one running when it
    // settles: with 400 ms of travel, parts judged before the switch reach
    // the ejector after it. After the swap returned, the old model is closed.
    const judgedAt = (p: SettledPart) => p.tTriggerMs + p.stages.total!;
    const oldJudgedNewSettled = settled.filter((p) => judgedAt(p) < switchedAt && p.tSettledMs > switchedAt);
    assert.ok(oldJudgedNewSettled.length > 0, "no part was judged before the swap and settled after it");
    assert.deepEqual(oldJudgedNewSettled.filter((p) => p.modelVersion !== "1.0.0").map((p) => p.id), []);
    assert.deepEqual(settled.filter((p) => judgedAt(p) > swapped && p.modelVersion !== "2.0.0").map((p) => p.id), []);
  } finally {
    if (app.state !== "stopped") await app.stop("test");
    rmSync(good, { recursive: true, force: true });
    rmSync(bad, { recursive: true, force: true });
  }
});
