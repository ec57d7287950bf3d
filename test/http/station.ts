import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { App } from "../../daemon/app.js";
import type { WorkerEngineOptions } from "../../daemon/inference/worker-engine.js";
import { lineConfig } from "../fakes/line.js";
import { quietLog } from "../fakes/quiet-log.js";

const LABELS = ["ok", "scratch", "crack", "stain", "missing_hole"];

export interface RunningStation {
  app: App;
  url: string;
  dir: string;
  dbPath: string;
  stop(): Promise<void>;
}

/**
 * The demo line with SQLite records in a temp folder and the review server
 * on a free loopback port. `http` is YAML for the http section's extra keys;
 * the engine, unless given, finds each synthetic defect with its box;
 * `records` is the records section.
 */
export async function startStation(
  http = "auth: { anonymous: operator }",
  env: NodeJS.ProcessEnv = {},
  engine?: WorkerEngineOptions,
  records = "{ type: sqlite, batch_ms: 20 }",
): Promise<RunningStation> {
  const dir = mkdtempSync(join(tmpdir(), "edge-inspect-http-"));
  const config = lineConfig(`
data_dir: ${dir}
line: { mode: free-run, travel_ms: 300, decision_margin_ms: 20 }
camera: { type: synthetic, width: 320, height: 240, fps: 30, seed: 3, defect_rate: 0.5 }
engine: { type: simulated }
records: ${records}
lifecycle: { progress_report_ms: 60000 }
http: { port: 0, live_interval_ms: 200, ${http} }
`);
  const app = new App(
    config,
    quietLog(),
    { engine: engine ?? { module: new URL("../fakes/truth-detector.js", import.meta.url).href, options: { labels: LABELS }, queue: 4, hangTimeoutMs: 2000, loadTimeoutMs: 10_000 } },
    env,
  );
  await app.start();
  return {
    app,
    url: app.http!.url,
    dir,
    dbPath: join(dir, "records.sqlite"),
    async stop() {
      await app.stop("test");
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Resolves once the store holds at least `n` rejected parts. */
export async function waitForRejects(s: RunningStation, n: number, timeoutMs = 30_000): Promise<void> {
  const t0 = Date.now();
  for (;;) {
    const r = (await (await fetch(`${s.url}/api/defects?limit=200`)).json()) as { items: unknown[]; next: string | null };
    if (r.items.length >= n) return;
    if (Date.now() - t0 > timeoutMs) throw new Error(`only ${r.items.length} rejected parts after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
