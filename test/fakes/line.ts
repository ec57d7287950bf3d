import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { App } from "../../daemon/app.js";
import { parseConfigText } from "../../daemon/config/load.js";
import type { SettledPart } from "../../daemon/pipeline/part.js";
import type { Config } from "../../daemon/config/schema.js";
import type { WorkerEngineOptions } from "../../daemon/inference/worker-engine.js";
import type { FaultyOptions } from "./faulty-backend.js";

const dataDirs = new Map<string, string>();

/**
 * A demo-line config from YAML text, with EDGE_INSPECT_* ignored. Unless the
 * YAML names one, its data directory is its own temporary one (the same for
 * the same text, so a reload sees no change): what a station keeps there,
 * such as runtime threshold overrides, never reaches another test.
 */
export function lineConfig(yaml: string): Config {
  const config = parseConfigText("test.yaml", yaml, {});
  if (!/^\s*data_dir:/m.test(yaml)) {
    let dir = dataDirs.get(yaml);
    if (!dir) dataDirs.set(yaml, (dir = mkdtempSync(join(tmpdir(), "edge-inspect-test-data-"))));
    config.data_dir = dir;
    for (const l of config.lines ?? []) l.data_dir = dir;
  }
  return config;
}

export const BASE_YAML = `
line: { mode: free-run, travel_ms: 300, decision_margin_ms: 20 }
camera: { type: synthetic, width: 320, height: 240, fps: 40, seed: 3, defect_rate: 0.3 }
engine: { type: simulated, latency_ms: 2, error_rate: 0 }
lifecycle: { progress_report_ms: 60000 }
# Tests run side by side: none takes the review server's fixed port.
http: { enabled: false }
# Pipeline tests are about verdicts, not pulse precision: a wide ejection
# window keeps a busy test machine from turning late pulses into escapes.
actuation: { window_ms: 100 }
`;

export function faultyEngine(o: Partial<FaultyOptions> & Pick<FaultyOptions, "fault">, rt: Partial<WorkerEngineOptions> = {}): WorkerEngineOptions {
  const options: FaultyOptions = { labels: ["ok", "scratch", "crack", "stain", "missing_hole"], every: 5, latencyMs: 2, ...o };
  return {
    module: new URL("./faulty-backend.js", import.meta.url).href,
    options,
    queue: 4,
    hangTimeoutMs: 250,
    loadTimeoutMs: 10_000,
    ...rt,
  };
}

/**
 * Starts the line, lets it take `parts` parts, stops it gracefully; the
 * books must balance at every settled part on the way.
 */
export async function runParts(app: App, parts: number): Promise<{ summary: Awaited<ReturnType<App["stop"]>>; settled: SettledPart[] }> {
  const settled: SettledPart[] = [];
  app.addSettledListener((p) => {
    settled.push(p);
    assert.equal(app.tracker.checkInvariant(), true);
  });
  await app.start();
  await new Promise<void>((resolve) => {
    app.pipeline.maxParts = parts;
    app.pipeline.onLimit(resolve);
  });
  return { summary: await app.stop("test done"), settled };
}
