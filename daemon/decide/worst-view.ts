import type { FailsafeReason, Finding, Judgement, ViewJudgement } from "../pipeline/part.js";

/** What became of one view of a part: its model's judgement, or why it has none. */
export type ViewOutcome =
  | { view: string; frameSeq: number; judgement: Judgement }
  | { view: string; frameSeq?: number; failsafe: FailsafeReason; detail: string; modelVersion?: string };

export type PartVerdict = { judgement: Judgement } | { failsafe: FailsafeReason; detail: string; views?: ViewJudgement[] };

/**
 * A part seen by several cameras gets its worst view's verdict: a reject
 * from any view rejects it (with the findings of every rejecting view, each
 * naming its view), else a view without a verdict (no frame, engine error,
 * overload) fails it safe, else it passes. A reject wins over a fail-safe
 * because the fail-safe action may be to accept: a defect one camera saw
 * must not ship because another camera was down. With one view the part's
 * verdict is that view's, exactly.
 */
export function worstView(outcomes: ViewOutcome[]): PartVerdict {
  if (outcomes.length === 1) {
    const o = outcomes[0]!;
    return "judgement" in o ? { judgement: o.judgement } : { failsafe: o.failsafe, detail: o.detail };
  }
  const views = outcomes.map(viewJudgement);
  const versions = [...new Set(outcomes.flatMap((o) => ("judgement" in o ? [o.judgement.modelVersion] : [o.modelVersion])).filter((v): v is string => v !== undefined))];
  const modelVersion = versions.length > 0 ? versions.join("+") : undefined;
  const failed = outcomes.filter((o): o is Extract<ViewOutcome, { failsafe: FailsafeReason }> => "failsafe" in o);
  const failedDetail = failed.map((o) => `view ${o.view}: ${o.detail}`).join("; ");
  const judged = outcomes.filter((o): o is Extract<ViewOutcome, { judgement: Judgement }> => "judgement" in o);
  const rejecting = judged.filter((o) => o.judgement.verdict === "reject");
  if (rejecting.length > 0) {
    const findings = rejecting.flatMap((o) => tagged(o.view, o.judgement.findings)).sort((a, b) => b.score - a.score);
    return { judgement: { verdict: "reject", findings, views, ...(modelVersion && { modelVersion }), ...(failed.length > 0 && { detail: failedDetail }) } };
  }
  if (failed.length > 0) return { failsafe: failed[0]!.failsafe, detail: failedDetail, views };
  return { judgement: { verdict: "pass", findings: judged.flatMap((o) => tagged(o.view, o.judgement.findings)), views, ...(modelVersion && { modelVersion }) } };
}

function tagged(view: string, findings: Finding[]): Finding[] {
  return findings.map((f) => ({ ...f, view }));
}

function viewJudgement(o: ViewOutcome): ViewJudgement {
  if ("judgement" in o) {
    const j = o.judgement;
    return { view: o.view, verdict: j.verdict, findings: j.findings, frameSeq: o.frameSeq, ...(j.modelVersion && { modelVersion: j.modelVersion }) };
  }
  return { view: o.view, verdict: "unknown", findings: [], failsafe: o.failsafe, detail: o.detail, ...(o.frameSeq !== undefined && { frameSeq: o.frameSeq }), ...(o.modelVersion && { modelVersion: o.modelVersion }) };
}
