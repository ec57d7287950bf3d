import type { GroundTruth } from "../capture/camera.js";
import type { HeatMap } from "../inference/engine.js";

/** Why a part got the fail-safe action instead of a model verdict. */
export const FAILSAFE_REASONS = ["late", "error", "no-frame", "overload"] as const;
export type FailsafeReason = (typeof FAILSAFE_REASONS)[number];

export interface Finding {
  class: string;
  score: number;
  /** [x, y, w, h] in frame pixels, when the model localises. */
  box?: [number, number, number, number];
  /** The camera that saw it, on a line with several views (the box is in its frame's pixels). */
  view?: string;
}

/** One view's share of a part seen by several cameras. */
export interface ViewJudgement {
  view: string;
  verdict: Judgement["verdict"];
  findings: Finding[];
  failsafe?: FailsafeReason;
  detail?: string;
  /** The frame the view was judged on; none when it had no frame. */
  frameSeq?: number;
  modelVersion?: string;
}

export interface Judgement {
  verdict: "pass" | "reject" | "unknown";
  /** Classes over threshold for a reject; the best class for a pass. */
  findings: Finding[];
  /** The anomaly head's map when it rejected the part, for the snapshot. */
  heatmap?: HeatMap;
  /** Set when verdict is unknown: why the fail-safe applies. */
  failsafe?: FailsafeReason;
  detail?: string;
  /** The model that judged it; for a fail-safe, the one running when the part failed safe. */
  modelVersion?: string;
  /** Each view's verdict, on a line with several (the part's is the worst view's). */
  views?: ViewJudgement[];
}

export interface StageTimes {
  /** trigger → frame in hand */
  capture?: number;
  preprocess?: number;
  infer?: number;
  decide?: number;
  /** trigger → judgement */
  total?: number;
}

export interface Part {
  /** Unique on the station within its run (one sequence for every line). */
  id: number;
  line: string;
  tTriggerMs: number;
  encoder?: number;
  /** The verdict must be known by then, or the fail-safe applies. */
  decideByMs: number;
  /** When the part passes the ejector. */
  ejectAtMs: number;
  frameSeq?: number;
  truth?: GroundTruth;
  stages: StageTimes;
  judgement?: Judgement;
}

export type Outcome = "accepted" | "rejected";

export interface SettledPart extends Part {
  judgement: Judgement;
  outcome: Outcome;
  /** The class that decided a reject, `failsafe:<reason>`, or `pass`. */
  reason: string;
  tSettledMs: number;
  /** When the reject pulse started, for rejected parts. */
  tPulseMs?: number;
  /** The judgement's model version (a part may settle after a swap to another model). */
  modelVersion: string;
}

export function outcomeReason(j: Judgement): string {
  if (j.verdict === "unknown") return `failsafe:${j.failsafe ?? "error"}`;
  if (j.verdict === "reject") return j.findings[0]?.class ?? "reject";
  return "pass";
}
