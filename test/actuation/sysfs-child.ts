// Runs inside a private mount namespace (test/actuation/onoff-sysfs.test.ts):
// mounts the fake sysfs GPIO tree, then drives it with the real onoff code,
// either the reject scheduler in this process (`scheduler`) or the daemon
// as a child process (`daemon <scenario>`), and prints what the tree saw as
// one JSON line.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { OnoffGpio } from "../../daemon/actuation/onoff-gpio.js";
import { LineActuation } from "../../daemon/actuation/line-actuation.js";
import type { SettledPart } from "../../daemon/pipeline/part.js";
import { nowMs, sleep } from "../../daemon/util/clock.js";
import { FakeSysfsGpio } from "../fakes/fake-sysfs-gpio.js";
import { lineConfig } from "../fakes/line.js";
import { quietLog } from "../fakes/quiet-log.js";

const REJECT_PIN = 17;
const BIN_PIN = 18;
const SCHEDULER_PULSE_MS = 100;
const DAEMON_PULSE_MS = 150;

type Scenario = "term" | "term-twice" | "start-fails" | "crash";

async function scheduler(fake: FakeSysfsGpio) {
  const config = lineConfig(`
line: { travel_ms: 100, decision_margin_ms: 20 }
engine: { type: simulated, latency_ms: 1, error_rate: 0 }
camera: { type: synthetic }
actuation:
  gpio: { type: onoff }
  reject: { name: reject, pin: ${REJECT_PIN}, active_low: true }
  pulse_ms: ${SCHEDULER_PULSE_MS}
  min_gap_ms: 10
  # Sysfs writes are under test here, not timing: a loaded machine must not make a part escape.
  window_ms: 500
  bins: [{ output: { name: bin-crack, pin: ${BIN_PIN} }, classes: [crack], travel_ms: 150 }]
`);
  const gpio = new OnoffGpio();
  const settled: SettledPart[] = [];
  const act = new LineActuation(config, gpio, () => "test", (p) => settled.push(p), quietLog());
  await act.start();
  const afterSetup = { [REJECT_PIN]: fake.line(REJECT_PIN), [BIN_PIN]: fake.line(BIN_PIN) };
  const verdicts = [
    { verdict: "reject" as const, findings: [{ class: "scratch", score: 0.9 }] },
    { verdict: "pass" as const, findings: [{ class: "ok", score: 0.9 }] },
    { verdict: "reject" as const, findings: [{ class: "crack", score: 0.9 }] },
    { verdict: "reject" as const, findings: [{ class: "scratch", score: 0.9 }] },
  ];
  for (const v of verdicts) {
    act.tracker.judge(act.tracker.create({ tMs: nowMs() }), v);
    await sleep(80);
  }
  await act.tracker.idle();
  await act.stop();
  await gpio.close();
  await fake.close();
  return { pulseMs: SCHEDULER_PULSE_MS, afterSetup, settled: settled.map((p) => ({ id: p.id, outcome: p.outcome, reason: p.reason, tPulseMs: p.tPulseMs })) };
}

const MAIN = fileURLToPath(new URL("../../daemon/main.js", import.meta.url));
const CRASH_PRELOAD = new URL("../fakes/throw-on-sigusr2.js", import.meta.url).href;

async function daemon(fake: FakeSysfsGpio, scenario: Scenario) {
  const dir = mkdtempSync(join(tmpdir(), "ei-sysfs-"));
  const config = join(dir, "line.yaml");
  writeFileSync(
    config,
    `data_dir: ${dir}
line: { mode: ${scenario === "start-fails" ? "triggered" : "free-run"}, travel_ms: 200, decision_margin_ms: 50 }
camera: { type: synthetic, width: 160, height: 120, fps: 5, seed: 2, defect_rate: 0.5 }
engine: { type: simulated, latency_ms: 3, error_rate: 0 }
http: { enabled: false }
lifecycle: { progress_report_ms: 60000 }
actuation:
  gpio: { type: onoff }
  reject: { name: reject, pin: ${REJECT_PIN}, active_low: true }
  pulse_ms: ${DAEMON_PULSE_MS}
  min_gap_ms: 20
${scenario === "start-fails" ? "trigger: { type: gpio, input: { name: photo-eye, pin: 5 } }\n" : ""}`,
  );
  const preload = scenario === "crash" ? ["--import", CRASH_PRELOAD] : [];
  const child = spawn(process.execPath, [...preload, MAIN, "run", "--config", config], { stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((r) => child.on("close", (code) => r(code)));
  const until = async (what: string, ok: () => boolean) => {
    const deadline = nowMs() + 30_000;
    while (!ok()) {
      if (nowMs() > deadline || child.exitCode !== null) throw new Error(`daemon: no ${what}\n${stdout}\n${stderr}`);
      await sleep(1);
    }
  };
  const pulseOn = () => fake.changes.at(-1)?.pin === REJECT_PIN && fake.changes.at(-1)?.value === "1";
  let signalledMs: number | undefined;
  if (scenario !== "start-fails") {
    // Signals land while a pulse is on: the case where leaving the output alone would hurt.
    await until("reject pulse", pulseOn);
    signalledMs = nowMs();
    child.kill(scenario === "crash" ? "SIGUSR2" : "SIGTERM");
    if (scenario === "term-twice") {
      await until("'stopping' log line", () => /stopping/.test(stdout));
      child.kill("SIGTERM");
    }
  }
  const code = await exited;
  rmSync(dir, { recursive: true, force: true });
  await fake.close();
  return { pulseMs: DAEMON_PULSE_MS, code, signalledMs, files: fake.line(REJECT_PIN) ?? fake.unexported.get(REJECT_PIN), stdout: stdout.slice(-4000), stderr: stderr.slice(-4000) };
}

const [mode, scenario] = process.argv.slice(2);
const fake = await FakeSysfsGpio.mount();
const out = mode === "scheduler" ? await scheduler(fake) : await daemon(fake, scenario as Scenario);
process.stdout.write(`${JSON.stringify({ ...out, exported: fake.exported, unexported: Object.fromEntries(fake.unexported), changes: fake.changes })}\n`);
process.exit(0);
