import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { nowMs } from "../../daemon/util/clock.js";
import type { SettledPart } from "../../daemon/pipeline/part.js";
import type { SqliteStoreOptions } from "../../daemon/records/sqlite-store.js";

/** A settled part as the tracker hands it to the store; every third one accepted. */
export function settledPart(id: number, outcome: SettledPart["outcome"] = id % 3 === 0 ? "accepted" : "rejected"): SettledPart {
  const t = nowMs();
  const rejected = outcome === "rejected";
  return {
    id,
    line: "line1",
    tTriggerMs: t - 30,
    decideByMs: t + 300,
    ejectAtMs: t + 400,
    stages: { capture: 1, preprocess: 2, infer: 8, decide: 0.1, total: 12 },
    judgement: rejected
      ? { verdict: "reject", findings: [{ class: id % 2 ? "crack" : "scratch", score: 0.9, box: [10, 20, 30, 40] }] }
      : { verdict: "pass", findings: [{ class: "ok", score: 0.97 }] },
    outcome,
    reason: rejected ? (id % 2 ? "crack" : "scratch") : "pass",
    tSettledMs: t,
    modelVersion: "sim-1",
  };
}

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `edge-inspect-${prefix}-`));
}

export function storeOptions(dir: string, over: Partial<SqliteStoreOptions> = {}): SqliteStoreOptions {
  return {
    path: join(dir, "records.sqlite"),
    snapshotDir: join(dir, "snapshots"),
    batchMs: 20,
    busyTimeoutMs: 5000,
    journalSizeLimitBytes: 4 << 20,
    maxPendingRows: 50_000,
    outboxMaxRows: 1_000_000,
    retryMs: 200,
    retention: { maxAgeDays: 30, maxDbBytes: 1 << 30, maxSnapshotBytes: 1 << 30, checkMs: 60_000 },
    ...over,
  };
}
