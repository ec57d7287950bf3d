import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { get } from "node:https";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { nowMs } from "../../daemon/util/clock.js";
import type { SettledPart } from "../../daemon/pipeline/part.js";
import { encodeJpeg } from "../../daemon/http/frame-sampler.js";
import { faultyEngine } from "../fakes/line.js";
import { parsePrometheusText, sample } from "./prom-text.js";
import { startStation, waitForRejects } from "./station.js";

const basic = (user: string, pw: string) => ({ authorization: `Basic ${Buffer.from(`${user}:${pw}`).toString("base64")}` });

test("malformed queries get 400 with the reason and never a stack trace", async () => {
  const s = await startStation();
  try {
    await waitForRejects(s, 1);
    const cases: Array<[string, RegExp, RequestInit?]> = [
      ["/api/defects?limit=0", /limit: must be at least 1/],
      ["/api/defects?limit=999", /limit: must be at most 200/],
      ["/api/defects?limit=ten", /limit: must be a whole number/],
      ["/api/defects?limit=1&limit=2", /limit: must be given once/],
      ["/api/defects?from=yesterday", /from: must be an ISO 8601 time/],
      ["/api/defects?from=2024-05-02T00:00:00Z&to=2024-05-01T00:00:00Z", /to: must be later than 'from'/],
      ["/api/defects?verdict=maybe", /verdict: must be unreviewed, confirmed or false_reject/],
      ["/api/defects?class=a%20b", /class: must be a class name/],
      ["/api/defects?before=abc", /before: must be a cursor/],
      ["/api/defects?colour=red", /unknown parameter 'colour'/],
      ["/api/defects.csv?to=never", /to: must be an ISO 8601 time/],
      ["/api/defects/abc", /id: must be a positive whole number/],
      ["/api/defects/0", /id: must be a positive whole number/],
      ["/api/alarms?before=-1", /before: must be a positive whole number/],
      ["/api/snapshots/passwd", /file: must be <id>.jpg/],
      ["/metrics?debug=1", /unknown parameter 'debug'/],
      ["/api/defects/1/verdict", /verdict: must be confirmed or false_reject/, { method: "PUT", body: JSON.stringify({ verdict: "maybe" }), headers: { "content-type": "application/json" } }],
      ["/api/defects/1/verdict", /unknown field 'note'/, { method: "PUT", body: JSON.stringify({ verdict: "confirmed", note: "x" }), headers: { "content-type": "application/json" } }],
      ["/api/defects/1/verdict", /JSON/, { method: "PUT", body: "{verdict:", headers: { "content-type": "application/json" } }],
    ];
    for (const [path, reason, init] of cases) {
      const r = await fetch(`${s.url}${path}`, init);
      const text = await r.text();
      assert.equal(r.status, 400, `${path}: ${text}`);
      const body = JSON.parse(text) as { error: string; message: string };
      assert.equal(body.error, "bad_request");
      assert.match(body.message, reason, path);
      assert.doesNotMatch(text, /\n\s+at |\.js:\d+|node_modules/, `${path} leaks internals`);
    }
    const missing = await fetch(`${s.url}/api/defects/99999999`);
    assert.equal(missing.status, 404);
    assert.deepEqual(await missing.json(), { error: "not_found", message: "no inspection 99999999" });
    assert.equal((await fetch(`${s.url}/api/nothing-here`)).status, 404);

    // A fault inside the daemon: the reason goes to its log, the client learns nothing of the internals.
    const db = new Database(s.dbPath);
    db.exec("DROP TABLE operator_verdicts");
    db.close();
    const broken = await fetch(`${s.url}/api/defects`);
    assert.equal(broken.status, 500);
    assert.deepEqual(await broken.json(), { error: "internal", message: "internal error; see the daemon's log" });
  } finally {
    await s.stop();
  }
});

test("with auth on: no or wrong credentials get 401, viewers look, operators act, tokens serve scrapers, /healthz stays open", async () => {
  const env = { OP_PW: "op-secret", VIEW_PW: "view-secret", SCRAPE: "t0ken-for-prometheus" };
  const s = await startStation(
    `auth: { users: [{ name: op, password: "env:OP_PW", role: operator }, { name: view, password: "env:VIEW_PW", role: viewer }], tokens: [{ token: "env:SCRAPE", role: viewer }] }`,
    env,
  );
  try {
    for (const path of ["/api/defects", "/live", "/metrics", "/api/events", "/api/snapshots/1.jpg"]) {
      const r = await fetch(`${s.url}${path}`);
      assert.equal(r.status, 401, path);
      assert.match(r.headers.get("www-authenticate") ?? "", /^Basic realm="edge-inspect"/);
      assert.deepEqual(await r.json(), { error: "unauthorized", message: "credentials required" });
    }
    assert.equal((await fetch(`${s.url}/api/defects`, { headers: basic("op", "wrong") })).status, 401);
    assert.equal((await fetch(`${s.url}/api/defects`, { headers: basic("nobody", "op-secret") })).status, 401);
    assert.equal((await fetch(`${s.url}/metrics`, { headers: { authorization: "Bearer wrong" } })).status, 401);
    const health = await fetch(`${s.url}/healthz`);
    assert.equal(health.status, 200);
    const threads = ((await health.json()) as { threads: Array<{ name: string; state: string; policy: string }> }).threads;
    for (const [name, policy] of [["capture", "stay-down"], ["engine", "restart"], ["writer", "stop-and-alarm"]]) {
      assert.ok(threads.some((t) => t.name === name && t.state === "running" && t.policy === policy), `${name} thread in health: ${JSON.stringify(threads)}`);
    }

    let id: number | undefined;
    for (let i = 0; i < 100 && id === undefined; i++) {
      const r = (await (await fetch(`${s.url}/api/defects?limit=1`, { headers: basic("view", "view-secret") })).json()) as { items: Array<{ id: number }> };
      id = r.items[0]?.id;
      if (id === undefined) await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(id !== undefined, "a rejected part in the log");
    const put = (who: Record<string, string>) =>
      fetch(`${s.url}/api/defects/${id}/verdict`, { method: "PUT", headers: { ...who, "content-type": "application/json" }, body: JSON.stringify({ verdict: "confirmed" }) });
    const refused = await put(basic("view", "view-secret"));
    assert.equal(refused.status, 403);
    assert.match(((await refused.json()) as { message: string }).message, /needs the operator role/);
    const done = await put(basic("op", "op-secret"));
    assert.equal(done.status, 200);
    assert.deepEqual(await done.json(), { id, operator_verdict: "confirmed", operator: "op" });
    const scraped = await fetch(`${s.url}/metrics`, { headers: { authorization: `Bearer ${env.SCRAPE}` } });
    assert.equal(scraped.status, 200);
    assert.match(await scraped.text(), /^edge_inspect_parts_triggered_total\{line="[^"]+"\} \d+$/m);
  } finally {
    await s.stop();
  }
});

test("/metrics parses as Prometheus text and its counters match the run's summary", async () => {
  // Every 7th frame makes the engine throw: fail-safe parts in the books too.
  const s = await startStation(undefined, {}, faultyEngine({ fault: "throw", every: 7, latencyMs: 1 }));
  try {
    await new Promise<void>((resolve) => {
      s.app.pipeline.maxParts = 60;
      s.app.pipeline.onLimit(resolve);
    });
    await s.app.tracker.idle();
    const r = await fetch(`${s.url}/metrics`);
    assert.equal(r.status, 200);
    assert.match(r.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
    const m = parsePrometheusText(await r.text());
    const summary = s.app.summary();
    assert.equal(summary.triggered, 60);
    assert.ok(summary.failsafe > 0, "the run has fail-safe parts");
    assert.equal(sample(m, "edge_inspect_parts_triggered_total", "edge_inspect_parts_triggered_total"), summary.triggered);
    assert.equal(sample(m, "edge_inspect_parts_total", "edge_inspect_parts_total", { outcome: "accepted", line: s.app.line.name }), summary.accepted, "each line's books carry its name");
    assert.equal(sample(m, "edge_inspect_parts_total", "edge_inspect_parts_total", { outcome: "rejected" }), summary.rejected);
    for (const [reason, n] of Object.entries(summary.rejected_by_reason)) assert.equal(sample(m, "edge_inspect_rejects_total", "edge_inspect_rejects_total", { reason }), n, reason);
    for (const [reason, n] of Object.entries(summary.failsafe_by_reason)) assert.equal(sample(m, "edge_inspect_failsafe_total", "edge_inspect_failsafe_total", { reason }), n, reason);
    assert.equal(sample(m, "edge_inspect_parts_in_flight", "edge_inspect_parts_in_flight"), 0);
    const count = (stage: string) => sample(m, "edge_inspect_stage_latency_seconds", "edge_inspect_stage_latency_seconds_count", { stage });
    assert.equal(count("total"), summary.latency_ms.end_to_end.count);
    assert.equal(count("infer"), summary.latency_ms.infer.count);
    assert.equal(sample(m, "edge_inspect_model_info", "edge_inspect_model_info", { version: "faulty-throw" }), 1);
    for (const f of ["edge_inspect_escaped_total", "edge_inspect_camera_reconnects_total", "edge_inspect_outbox_backlog", "edge_inspect_engine_queue_depth", "edge_inspect_event_loop_lag_p99_seconds", "edge_inspect_process_nodejs_eventloop_lag_p99_seconds"]) {
      assert.ok(m.has(f), `${f} is exported`);
    }
  } finally {
    await s.stop();
  }
});

test("snapshots are served with caching headers and revalidate to 304", async () => {
  const s = await startStation();
  try {
    const jpeg = await encodeJpeg({ seq: 1, tCaptureMs: nowMs(), width: 64, height: 48, data: Buffer.alloc(64 * 48 * 3, 128) });
    const t = nowMs();
    const part: SettledPart = {
      id: 9_000_001,
      line: "line1",
      tTriggerMs: t - 20,
      decideByMs: t + 200,
      ejectAtMs: t + 300,
      stages: { capture: 0, infer: 1, decide: 0.1, total: 2 },
      judgement: { verdict: "reject", findings: [{ class: "crack", score: 0.8, box: [4, 5, 20, 10] }] },
      outcome: "rejected",
      reason: "crack",
      tSettledMs: t,
      modelVersion: "truth-1",
    };
    s.app.store.record(part, [], jpeg);
    await s.app.store.flush();
    const db = new Database(s.dbPath, { readonly: true });
    const { id } = db.prepare("SELECT id FROM inspections WHERE part_id = ?").get(part.id) as { id: number };
    db.close();
    const detail = (await (await fetch(`${s.url}/api/defects/${id}`)).json()) as { snapshot: string; findings: unknown };
    assert.equal(detail.snapshot, `/api/snapshots/${id}.jpg`);
    assert.deepEqual(detail.findings, [{ class: "crack", score: 0.8, box: [4, 5, 20, 10] }]);
    const r = await fetch(`${s.url}${detail.snapshot}`);
    assert.equal(r.status, 200);
    assert.equal(r.headers.get("content-type"), "image/jpeg");
    assert.match(r.headers.get("cache-control") ?? "", /max-age=\d+/);
    assert.deepEqual(Buffer.from(await r.arrayBuffer()), jpeg);
    const etag = r.headers.get("etag")!;
    assert.ok(etag);
    const again = await fetch(`${s.url}${detail.snapshot}`, { headers: { "if-none-match": etag } });
    assert.equal(again.status, 304);
    assert.equal((await fetch(`${s.url}/api/snapshots/99999999.jpg`)).status, 404);
  } finally {
    await s.stop();
  }
});

test("TLS from config: the review server answers over https with the configured certificate", async () => {
  const dir = mkdtempSync(join(tmpdir(), "edge-inspect-tls-"));
  const cert = join(dir, "cert.pem");
  const key = join(dir, "key.pem");
  execFileSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", key, "-out", cert], { stdio: "ignore" });
  const s = await startStation(`tls: { cert: "${cert}", key: "${key}" }`);
  try {
    assert.match(s.url, /^https:\/\//);
    const status = await new Promise<number>((resolve, reject) => {
      get(`${s.url}/healthz`, { ca: readFileSync(cert) }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      }).on("error", reject);
    });
    assert.equal(status, 200);
  } finally {
    await s.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
