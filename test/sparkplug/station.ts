import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ChildProcess } from "node:child_process";
import { startCli, type Ran } from "../cli/cli-helpers.js";

export const GROUP = "plant";
export const NODE = "cam1";
export const LINE = "l1";
export const OPERATOR = "operator-1";

/** A station's config file in a fresh data dir: simulated line, SQLite records, the Sparkplug node on `url`. */
export function stationConfig(url: string, sparkplug = ""): { dir: string; file: string } {
  const dir = mkdtempSync(join(tmpdir(), "ei-spb-"));
  const file = join(dir, "line.yaml");
  writeFileSync(
    file,
    `station: { site: ${GROUP}, line: ${LINE}, device: ${NODE} }
data_dir: ${dir}
line: { mode: free-run, travel_ms: 300 }
camera: { type: synthetic, width: 320, height: 240, fps: 30, seed: 5, defect_rate: 0.4 }
engine: { type: simulated, latency_ms: 2 }
records: { type: sqlite }
http: { enabled: false }
actuation: { window_ms: 100 }
lifecycle: { stop_timeout_ms: 5000, progress_report_ms: 60000 }
publish:
  type: mqtt
  url: ${url}
  reconnect_ms: 200
  metrics_interval_s: 1
  commands: { allow: [${OPERATOR}] }
  sparkplug: { data_interval_ms: 250${sparkplug} }
`,
  );
  return { dir, file };
}

/** The daemon as a process of its own (dist/daemon/main.js run). */
export function startStation(file: string): { child: ChildProcess; done: Promise<Ran> } {
  const s = startCli(["run", "--config", file]);
  // A test that fails half-way must not leave a line running.
  const killer = setTimeout(() => s.child.kill("SIGKILL"), 600_000);
  killer.unref();
  void s.done.then(() => clearTimeout(killer));
  return s;
}
