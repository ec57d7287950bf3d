import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli, startCli, waitForOutput } from "./cli-helpers.js";

const dir = mkdtempSync(join(tmpdir(), "ei-run-"));
const config = join(dir, "line.yaml");
writeFileSync(
  config,
  `line: { mode: free-run, travel_ms: 300 }
camera: { type: synthetic, width: 320, height: 240, fps: 50, seed: 2, defect_rate: 0.3 }
engine: { type: simulated, latency_ms: 3 }
lifecycle: { progress_report_ms: 200 }
actuation: { window_ms: 100 }
http: { enabled: false }
`,
);

interface SummaryJson {
  triggered: number;
  accepted: number;
  rejected: number;
  failsafe: number;
  in_flight: number;
  latency_ms: Record<string, { p50: number; p99: number; count: number }>;
  event_loop_lag_ms: { p99: number };
}

test("run --max-parts N ends by itself with exit 0 and a summary whose counts add up", async () => {
  const out = join(dir, "s.json");
  const r = await runCli(["run", "--config", config, "--max-parts", "120", "--summary-json", out]);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  const s = JSON.parse(readFileSync(out, "utf8")) as SummaryJson;
  assert.equal(s.triggered, 120);
  assert.equal(s.in_flight, 0);
  assert.equal(s.accepted + s.rejected, 120);
  assert.ok(s.rejected > 0 && s.accepted > 0);
  // Every part is timed end to end or was failed safe (a busy machine may make a verdict late); the stages saw at least the timed ones.
  const timed = s.latency_ms.end_to_end!.count;
  assert.equal(timed + s.failsafe, 120, `timed ${timed}, fail-safe ${s.failsafe}`);
  for (const stage of ["infer", "decide"]) assert.ok(s.latency_ms[stage]!.count >= timed && s.latency_ms[stage]!.count <= 120, `${stage} ${s.latency_ms[stage]!.count}`);
  assert.ok(s.latency_ms.end_to_end!.p99 >= s.latency_ms.end_to_end!.p50);
  assert.equal(typeof s.event_loop_lag_ms.p99, "number");
  assert.match(r.stdout, /parts triggered 120 +accepted \d+ +rejected \d+ +in flight 0 +\(books balance\)/);
  assert.match(r.stdout, /end_to_end/);
});

test("SIGTERM mid-run: parts in flight finish, exit 0, books balance, summary printed", async () => {
  const out = join(dir, "term.json");
  const { child, done } = startCli(["run", "--config", config, "--summary-json", out]);
  await waitForOutput(child, /"triggered":[1-9]\d*.*"inFlight":[1-9]/);
  child.kill("SIGTERM");
  const r = await done;
  assert.equal(r.code, 0, r.stderr);
  const s = JSON.parse(readFileSync(out, "utf8")) as SummaryJson;
  assert.ok(s.triggered > 0);
  assert.equal(s.in_flight, 0);
  assert.equal(s.triggered, s.accepted + s.rejected);
  assert.match(r.stdout, /stopping: finishing parts in flight/);
  assert.match(r.stdout, /books balance/);
});

test("a second signal exits at once with outputs safe", async () => {
  const slow = join(dir, "slow.yaml");
  // Long travel so parts are still in flight when the second signal comes.
  writeFileSync(slow, readFileSync(config, "utf8").replace("travel_ms: 300", "travel_ms: 20000, decision_margin_ms: 100"));
  const { child, done } = startCli(["run", "--config", slow]);
  await waitForOutput(child, /READY/);
  await new Promise((r) => setTimeout(r, 300));
  child.kill("SIGINT");
  await waitForOutput(child, /stopping/);
  child.kill("SIGINT");
  const r = await done;
  assert.equal(r.code, 130);
  assert.match(r.stdout, /again: outputs safe, exiting now/);
});

test("run --duration S stops after S seconds", async () => {
  const out = join(dir, "dur.json");
  const r = await runCli(["run", "--config", config, "--duration", "1.5", "--summary-json", out]);
  assert.equal(r.code, 0, r.stderr);
  const s = JSON.parse(readFileSync(out, "utf8")) as SummaryJson;
  assert.ok(s.triggered > 10);
  assert.equal(s.in_flight, 0);
});

test("run with an invalid config refuses to start: exit 2", async () => {
  const bad = join(dir, "bad.yaml");
  writeFileSync(bad, "camera: { type: synthetic }\n");
  const r = await runCli(["run", "--config", bad]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /engine: required/);
});

test("log lines are JSON a collector reads as written: no key twice (the component is `component`, a part is `part`)", async () => {
  const faulty = join(dir, "busy-ejector.yaml");
  // An ejector that needs half a second between pulses: rejects close behind another escape, each alarm logged with its part.
  writeFileSync(faulty, readFileSync(config, "utf8").replace("actuation: { window_ms: 100 }", "actuation: { window_ms: 5, pulse_ms: 50, min_gap_ms: 500 }"));
  const r = await runCli(["run", "--config", faulty, "--max-parts", "60"]);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  const lines = r.stdout.split("\n").filter((l) => l.startsWith("{"));
  // JSON.parse keeps the last of two equal keys: a line that does not come back the same had one twice.
  for (const l of lines) assert.equal(JSON.stringify(JSON.parse(l)), l, `a key given twice: ${l}`);
  const withPart = lines.map((l) => JSON.parse(l) as { component?: string; part?: unknown }).filter((o) => o.part !== undefined);
  assert.ok(withPart.length > 0, "the escaped parts were logged with their part id");
  for (const o of withPart) assert.equal(typeof o.part, "number", JSON.stringify(o));
  assert.ok(withPart.some((o) => o.component === "alarms"));
});
