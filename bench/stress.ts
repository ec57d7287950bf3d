import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import type { Benchmark } from "./harness.js";
import { Cyclictest } from "./cyclictest.js";
import { stressMatrix } from "./stressors.js";
import { App } from "../daemon/app.js";
import { parseConfigText } from "../daemon/config/load.js";
import type { SettledPart } from "../daemon/pipeline/part.js";
import { sleep } from "../daemon/util/clock.js";
import { createLogger } from "../daemon/util/log.js";

const demo = () => parseConfigText("config/demo.yaml", readFileSync(new URL("../../config/demo.yaml", import.meta.url), "utf8"), {});


/**
 * The demo line with every part a reject (each with a snapshot), under a
 * matrix of load beside it, with cyclictest at the same priority in the same
 * run. Wake-up is how late the core's thread woke for its deadlines (what
 * cyclictest measures of its own thread); pulse error is how late each
 * part's own pulse went on. An escape is the kernel's doing when cyclictest
 * saw a stall longer than the reject window in that second.
 */
export const stressBenchmark: Benchmark = {
  name: "stress",
  description: "reject timing and escapes under CPU, memory, disk and the daemon's own worst case, beside cyclictest",
  async run(opts) {
    const seconds = opts.duration ?? Math.max(5, Math.round(30 * opts.scale));
    const log = createLogger("error", false);
    const rows = [];
    const cases = [];
    const only = process.env.EDGE_INSPECT_BENCH_CASES?.split(",");
    // EDGE_INSPECT_BENCH_WAKE_LEADS=0,2: every case once per wake-lead cap, side by side (default: the config's).
    const leads = process.env.EDGE_INSPECT_BENCH_WAKE_LEADS?.split(",").map(Number) ?? [demo().actuation.wake_lead_max_ms];
    const runs = stressMatrix()
      .filter((x) => !only || only.includes(x.name))
      .flatMap((c) => leads.map((lead) => ({ c, lead })));
    for (const { c, lead } of runs) {
      const config = demo();
      config.actuation.wake_lead_max_ms = lead;
      const priority = config.actuation.realtime_priority;
      const window = config.actuation.window_ms;
      const dir = mkdtempSync(join(tmpdir(), "edge-inspect-bench-stress-"));
      config.data_dir = dir;
      config.decide.threshold = 0;
      config.http.enabled = false;
      // EDGE_INSPECT_BENCH_NICE=0: the line's threads at normal priority, to compare with the default.
      if (process.env.EDGE_INSPECT_BENCH_NICE !== undefined) config.lifecycle.nice = Number(process.env.EDGE_INSPECT_BENCH_NICE);
      if (c.daemonWorstCase && config.records.type === "sqlite") {
        // Retention deleting rows and snapshots all the time, beside writing a snapshot per part.
        config.records.retention = { ...config.records.retention, check_s: 1, max_db_mb: 1, max_snapshot_mb: 1 };
      }
      const app = new App(config, log);
      const parts: SettledPart[] = [];
      app.addSettledListener((p) => parts.push(p));
      const why = new Map<number, string>();
      app.alarms.on((a) => {
        if (a.code === "escaped" && a.part !== undefined) why.set(a.part, a.message);
      });
      for (const s of c.stressors) s.start();
      const cyc = new Cyclictest(Math.max(1, priority));
      cyc.start();
      // A stall hides from a thread asleep at the time: cyclictest at 1 kHz samples the kernel far more often than
      // the core's deadlines do, and skips the periods a stall swallowed. A second cyclictest at the pulse rate
      // (every part here is a reject: its pulse on and off, two deadlines a part) samples the same stalls as often
      // as the core meets them. Both start before the daemon: a fork from its process stalls the core's thread
      // (copy-on-write of its memory), which the daemon itself never does.
      const fps = config.camera.type === "synthetic" ? config.camera.fps : 20;
      const cycAtRate = new Cyclictest(Math.max(1, priority), Math.round(1e6 / (2 * fps)));
      cycAtRate.start();
      let timing: ReturnType<App["rejectTiming"]>;
      let summary: Awaited<ReturnType<App["stop"]>>;
      try {
        await app.start();
        await sleep(seconds * 1000);
        timing = app.rejectTiming();
      } finally {
        summary = await app.stop("bench done");
        await cyc.stop();
        await cycAtRate.stop();
        for (const s of c.stressors) await s.stop();
        rmSync(dir, { recursive: true, force: true });
      }

      const escapes = parts.filter((p) => p.reason.startsWith("escaped:"));
      // Why each escape happened: the core woke too late (the kernel's doing if cyclictest saw a stall past the
      // window in that second, else the daemon's), the part reached the core after its ejector (the daemon's
      // main thread was late), or the ejector was still retracting from the pulse before (the line's mechanics).
      const attributed = escapes.map((p) => {
        const detail = why.get(p.id) ?? "";
        const worst = cyc.worstAround(p.ejectAtMs);
        const cause = /armed .* late/.test(detail) ? "main thread late" : /ejector was busy/.test(detail) ? "ejector busy" : worst > window ? "kernel stall" : "reject core late";
        return { part: p.id, why: detail, cyclictest_worst_ms: worst, cause };
      });
      const byCause = (c: string) => attributed.filter((a) => a.cause === c).length;
      const cyclictest = cyc.summary();
      const atRate = cycAtRate.summary();
      const row = {
        case: leads.length > 1 ? `${c.name}, lead ≤ ${lead} ms` : c.name,
        parts: summary.triggered,
        wake_p50_ms: timing?.wakeP50Ms ?? NaN,
        wake_p99_ms: timing?.wakeP99Ms ?? NaN,
        wake_max_ms: timing?.wakeMaxMs ?? NaN,
        cyc_p50_ms: cyclictest.p50_ms,
        cyc_p99_ms: cyclictest.p99_ms,
        cyc_max_ms: cyclictest.max_ms,
        cyc_rate_p99_ms: atRate.p99_ms,
        pulse_p50_ms: timing?.lateP50Ms ?? NaN,
        pulse_p99_ms: timing?.lateP99Ms ?? NaN,
        pulse_max_ms: timing?.lateMaxMs ?? NaN,
        escaped: escapes.length,
        esc_kernel: byCause("kernel stall"),
        esc_daemon: byCause("reject core late") + byCause("main thread late"),
        esc_ejector: byCause("ejector busy"),
        failsafe: summary.failsafe,
        // The pipeline's promise beside the core's: books balance at every settled part, and no part left as good
        // without a verdict of pass (a late verdict takes the fail-safe action instead; escapes are counted apart).
        invariant: summary.invariant_ok ? "ok" : "BROKEN",
        unjudged_passed: parts.filter((p) => p.outcome === "accepted" && p.judgement.verdict === "unknown" && !p.reason.startsWith("escaped:")).length,
        lead_ms: timing?.leadMs ?? NaN,
        spin_pct: ((timing?.spinMs ?? NaN) / (seconds * 1000)) * 100,
      };
      rows.push(row);
      cases.push({
        ...row,
        seconds,
        wake_lead_max_ms: lead,
        priority: timing?.priority ?? 0,
        nice: config.lifecycle.nice,
        // What else the machine was doing: the 1-minute load average at the end of the case.
        load_1min: loadavg()[0],
        realtime_refused: timing?.realtimeRefused ?? "",
        memory_locked: timing?.memoryLocked ?? false,
        core_major_faults: timing?.majorFaults ?? 0,
        core_minor_faults: timing?.minorFaults ?? 0,
        cyclictest,
        cyclictest_at_pulse_rate: { interval_us: cycAtRate.intervalUs, ...atRate },
        escapes: attributed,
        failsafe_by_reason: summary.failsafe_by_reason,
        books: { triggered: summary.triggered, accepted: summary.accepted, rejected: summary.rejected, in_flight: summary.in_flight },
        event_loop_lag_ms: summary.event_loop_lag_ms,
      });
    }
    return { rows, data: { seconds, window_ms: demo().actuation.window_ms, cases } };
  },
};
