import { join } from "node:path";

/**
 * Where a part's snapshot lives under the snapshot directory. Derived from
 * the run and the part alone (no clock), so the defect message can name the
 * file the writer thread will create; parts are bucketed by ten thousand so
 * that no directory grows without bound on a line that runs for months.
 */
export function snapshotPath(runId: string, partId: number): string {
  return join(runId, String(Math.floor(partId / 10_000)), `${partId}.jpg`);
}
