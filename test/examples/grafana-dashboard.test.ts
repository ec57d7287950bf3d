import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { startCli } from "../cli/cli-helpers.js";

const DASHBOARD = fileURLToPath(new URL("../../../examples/grafana/edge-inspect-dashboard.json", import.meta.url));

interface Panel {
  title: string;
  targets?: Array<{ expr: string }>;
}

/** The metric names a PromQL expression reads: what is left once strings, matchers, ranges, groupings, functions and numbers are taken out. */
export function metricNames(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, "")
    .replace(/\{[^}]*\}/g, "")
    .replace(/\[[^\]]*\]/g, "")
    .replace(/\b(by|without)\s*\([^)]*\)/g, "");
  return [...bare.matchAll(/(?<![A-Za-z0-9_:.])[A-Za-z_:][A-Za-z0-9_:]*(?![A-Za-z0-9_:]|\s*\()/g)].map((m) => m[0]).filter((t) => !/^(and|or|unless|bool|on|ignoring|group_left|group_right|offset)$/.test(t));
}

/** Names a /metrics page exports: every sample's, and every declared family (a counter with no labels seen yet has no sample). */
function exported(text: string): Set<string> {
  const names = new Set<string>();
  for (const line of text.split("\n")) {
    const type = /^# TYPE (\S+) (\S+)/.exec(line);
    if (type) {
      names.add(type[1]!);
      if (type[2] === "histogram" || type[2] === "summary") for (const s of ["_bucket", "_sum", "_count"]) names.add(`${type[1]}${s}`);
    } else if (line && !line.startsWith("#")) {
      names.add(/^[^{\s]+/.exec(line)![0]);
    }
  }
  return names;
}

test("examples/grafana: every expression of the dashboard names only metrics a running station exports on /metrics", async () => {
  const dir = mkdtempSync(join(tmpdir(), "ei-grafana-"));
  const config = join(dir, "line.yaml");
  writeFileSync(
    config,
    `data_dir: ${dir}
line: { mode: free-run, travel_ms: 300 }
camera: { type: synthetic, width: 320, height: 240, fps: 30, seed: 5, defect_rate: 0.4 }
engine: { type: simulated, latency_ms: 2 }
http: { enabled: true, host: 127.0.0.1, port: 0 }
lifecycle: { progress_report_ms: 60000 }
actuation: { window_ms: 100 }
`,
  );
  const { child, done } = startCli(["run", "--config", config]);
  try {
    let out = "";
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no review server address within 90 s: ${out}`)), 90_000);
      child.stdout!.on("data", (d: Buffer) => {
        out += d.toString();
        const m = /operator review on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
        if (m && /READY/.test(out)) {
          clearTimeout(timer);
          resolve(m[1]!);
        }
      });
    });
    const res = await fetch(`${url}/metrics`);
    assert.equal(res.status, 200);
    const names = exported(await res.text());
    assert.ok(names.has("edge_inspect_up"), "the station's metrics are there");

    const dashboard = JSON.parse(readFileSync(DASHBOARD, "utf8")) as { panels: Panel[] };
    let expressions = 0;
    for (const panel of dashboard.panels) {
      assert.ok((panel.targets ?? []).length > 0, `panel '${panel.title}' has an expression`);
      for (const { expr } of panel.targets!) {
        expressions++;
        const used = metricNames(expr);
        assert.ok(used.length > 0, `'${expr}' reads a metric`);
        for (const name of used) assert.ok(names.has(name), `panel '${panel.title}': ${name} is not exported by the station (${expr})`);
      }
    }
    assert.ok(expressions >= dashboard.panels.length);
  } finally {
    child.kill("SIGTERM");
    await done;
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the expression reader finds the metrics, not functions, labels or ranges", () => {
  assert.deepEqual(metricNames('histogram_quantile(0.99, sum by (instance, le) (rate(edge_inspect_stage_latency_seconds_bucket{stage="total"}[5m])))'), ["edge_inspect_stage_latency_seconds_bucket"]);
  assert.deepEqual(metricNames('sum(rate(a_total{x="y"}[1m])) / sum(rate(b_total[1m]))'), ["a_total", "b_total"]);
  assert.deepEqual(metricNames("edge_inspect_nope"), ["edge_inspect_nope"]);
});
