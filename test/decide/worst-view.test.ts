import { test } from "node:test";
import assert from "node:assert/strict";
import { worstView, type ViewOutcome } from "../../daemon/decide/worst-view.js";
import type { Judgement } from "../../daemon/pipeline/part.js";

const pass = (score = 0.9, modelVersion = "1.0.0"): Judgement => ({ verdict: "pass", findings: [{ class: "ok", score }], modelVersion });
const reject = (cls: string, score: number, modelVersion = "1.0.0"): Judgement => ({ verdict: "reject", findings: [{ class: cls, score, box: [1, 2, 3, 4] }], modelVersion });
const judged = (view: string, judgement: Judgement, frameSeq = 1): ViewOutcome => ({ view, frameSeq, judgement });
const noFrame = (view: string): ViewOutcome => ({ view, failsafe: "no-frame", detail: "no frame within 40 ms of the trigger" });

test("worst view: one view's verdict is the part's, exactly (nothing added for a one-camera line)", () => {
  assert.deepEqual(worstView([judged("main", reject("crack", 0.8))]), { judgement: reject("crack", 0.8) });
  assert.deepEqual(worstView([judged("main", pass())]), { judgement: pass() });
  assert.deepEqual(worstView([noFrame("main")]), { failsafe: "no-frame", detail: "no frame within 40 ms of the trigger" });
});

test("worst view: a reject from any view rejects the part with every rejecting view's findings, strongest first, each naming its view", () => {
  const v = worstView([judged("top", pass()), judged("bottom", reject("stain", 0.5)), judged("side", reject("crack", 0.9))]);
  assert.ok("judgement" in v);
  assert.equal(v.judgement.verdict, "reject");
  assert.deepEqual(v.judgement.findings.map((f) => [f.view, f.class]), [["side", "crack"], ["bottom", "stain"]]);
  assert.deepEqual(v.judgement.views?.map((x) => [x.view, x.verdict]), [["top", "pass"], ["bottom", "reject"], ["side", "reject"]]);
  assert.equal(v.judgement.detail, undefined);
});

test("worst view: a reject wins over a view without a verdict (the fail-safe may accept), and the detail says which view had none", () => {
  const v = worstView([judged("top", reject("scratch", 0.7)), noFrame("bottom")]);
  assert.ok("judgement" in v);
  assert.equal(v.judgement.verdict, "reject");
  assert.equal(v.judgement.detail, "view bottom: no frame within 40 ms of the trigger");
  assert.deepEqual(v.judgement.views?.map((x) => [x.view, x.verdict, x.failsafe]), [["top", "reject", undefined], ["bottom", "unknown", "no-frame"]]);
});

test("worst view: no reject and a view without a verdict fails the part safe with that view's reason; all pass passes", () => {
  const v = worstView([judged("top", pass()), { view: "bottom", frameSeq: 7, failsafe: "error", detail: "E_ENGINE_FAILED: boom" }]);
  assert.ok("failsafe" in v);
  assert.equal(v.failsafe, "error");
  assert.equal(v.detail, "view bottom: E_ENGINE_FAILED: boom");
  assert.deepEqual(v.views?.map((x) => [x.view, x.verdict, x.frameSeq]), [["top", "pass", 1], ["bottom", "unknown", 7]]);
  const ok = worstView([judged("top", pass(0.9)), judged("bottom", pass(0.8, "2.0.0"))]);
  assert.ok("judgement" in ok);
  assert.equal(ok.judgement.verdict, "pass");
  assert.deepEqual(ok.judgement.findings.map((f) => f.view), ["top", "bottom"]);
  assert.equal(ok.judgement.modelVersion, "1.0.0+2.0.0", "views on two models name both");
});
