import { test } from "node:test";
import assert from "node:assert/strict";
import Database from "better-sqlite3";
import { SqliteStore } from "../../daemon/records/sqlite-store.js";
import { killThread } from "../fakes/kill-thread.js";
import { quietLog } from "../fakes/quiet-log.js";
import { raw, firstReject } from "../hostile/raw-http.js";
import { storeOptions } from "../records/parts.js";
import { startStation, waitForRejects, type RunningStation } from "./station.js";

const JSON_SAME = { "content-type": "application/json", "sec-fetch-site": "same-origin" };
type Page<T> = { items: T[]; next: string | number | null };
type Summary = { id: number; time_ms: number; class: string; operator_verdict: string | null; snapshot: string | null };
type AlarmItem = { id: number; code: string; active: boolean; acked_by: string | null };

async function json<T>(s: RunningStation, path: string): Promise<T> {
  const r = await raw(`${s.url}${path}`, "GET");
  assert.equal(r.status, 200, `${path}: ${r.body}`);
  return JSON.parse(r.body) as T;
}

async function alarmsUntil(s: RunningStation, n: number): Promise<AlarmItem[]> {
  const t0 = Date.now();
  for (;;) {
    const page = await json<Page<AlarmItem>>(s, "/api/alarms");
    if (page.items.length >= n) return page.items;
    if (Date.now() - t0 > 30_000) assert.fail(`only ${page.items.length} alarms on record`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test("records in memory: the review API answers from the memory store, operator verdicts and acknowledgements included", async () => {
  const s = await startStation("auth: { anonymous: operator }", {}, undefined, "{ type: memory, batch_ms: 20 }");
  try {
    await waitForRejects(s, 3);
    const page = await json<Page<Summary>>(s, "/api/defects?limit=2");
    assert.equal(page.items.length, 2);
    // Keyset order: newest trigger time first, then id (parts settle out of trigger order under load).
    const before = (a: Summary, b: Summary) => a.time_ms < b.time_ms || (a.time_ms === b.time_ms && a.id < b.id);
    assert.ok(before(page.items[1]!, page.items[0]!), "newest first");
    assert.equal(typeof page.next, "string", "a cursor to the next page");
    const rest = await json<Page<Summary>>(s, `/api/defects?limit=200&before=${page.next as string}`);
    assert.ok(rest.items.length > 0 && rest.items.every((d) => before(d, page.items[1]!)), "the next page continues after the cursor");
    const id = page.items[0]!.id;
    assert.equal(page.items[0]!.snapshot, null, "the memory store keeps no snapshot files");

    const detail = await json<{ id: number; outcome: string; failsafe: string | null; findings: unknown[] }>(s, `/api/defects/${id}`);
    assert.equal(detail.outcome, "rejected");
    // A judged reject carries its findings; a fail-safe one (late, no frame) has none.
    if (detail.failsafe === null) assert.ok(detail.findings.length > 0, JSON.stringify(detail));
    assert.ok((await json<{ classes: string[] }>(s, "/api/classes")).classes.includes(page.items[0]!.class));

    const put = await raw(`${s.url}/api/defects/${id}/verdict`, "PUT", JSON_SAME, '{"verdict":"false_reject"}');
    assert.equal(put.status, 200, put.body);
    assert.deepEqual((await json<Page<Summary>>(s, "/api/defects?verdict=false_reject")).items.map((d) => d.id), [id]);
    assert.ok(!(await json<Page<Summary>>(s, "/api/defects?verdict=unreviewed&limit=200")).items.some((d) => d.id === id));
    const csv = await raw(`${s.url}/api/defects.csv?verdict=false_reject`, "GET");
    assert.equal(csv.body.trim().split("\n").length, 2, csv.body);

    s.app.alarms.raise("bin-full", "reject bin of 'reject' is full", { station: "reject" });
    s.app.alarms.raise("bin-cleared", "reject bin of 'reject' is clear", { station: "reject" });
    const [cleared, full] = await alarmsUntil(s, 2);
    assert.deepEqual([full!.code, full!.active, cleared!.code, cleared!.active], ["bin-full", true, "bin-cleared", false]);
    assert.equal((await raw(`${s.url}/api/alarms/${full!.id}/ack`, "POST", JSON_SAME, "{}")).status, 200);
    assert.equal((await alarmsUntil(s, 2))[1]!.acked_by, "anonymous");

    // Hostile or wrong requests keep their codes on the memory store.
    const wrong: Array<[string, string, string | undefined, number, RegExp]> = [
      ["PUT", "/api/defects/999999/verdict", '{"verdict":"confirmed"}', 404, /no rejected part with id 999999/],
      ["PUT", `/api/defects/${id}/verdict`, '{"verdict":"maybe"}', 400, /verdict/],
      ["GET", "/api/defects/999999", undefined, 404, /no inspection 999999/],
      ["GET", `/api/snapshots/${id}.jpg`, undefined, 404, /no snapshot/],
      ["POST", `/api/alarms/${cleared!.id}/ack`, "{}", 409, /clearing event/],
      ["POST", "/api/alarms/999/ack", "{}", 404, /no alarm 999/],
    ];
    for (const [method, path, body, status, message] of wrong) {
      const r = await raw(`${s.url}${path}`, method, JSON_SAME, body);
      assert.equal(r.status, status, `${method} ${path}: ${r.body}`);
      assert.match((JSON.parse(r.body) as { message: string }).message, message);
    }
  } finally {
    await s.stop();
  }
});

test("records in SQLite: verdicts and acknowledgements are written by the writer thread, survive a restart, and are refused (503) while it is down", async () => {
  const s = await startStation();
  try {
    const id = await firstReject(s.url, {});
    const put = await raw(`${s.url}/api/defects/${id}/verdict`, "PUT", JSON_SAME, '{"verdict":"confirmed"}');
    assert.equal(put.status, 200, put.body);
    s.app.alarms.raise("bin-full", "reject bin of 'reject' is full", { station: "reject" });
    const [alarm] = await alarmsUntil(s, 1);
    assert.equal((await raw(`${s.url}/api/alarms/${alarm!.id}/ack`, "POST", JSON_SAME, "{}")).status, 200);

    await killThread("sqlite-writer.js");
    let refused = await raw(`${s.url}/api/defects/${id}/verdict`, "PUT", JSON_SAME, '{"verdict":"false_reject"}');
    for (let i = 0; i < 100 && refused.status === 200; i++) {
      // The kill lands asynchronously: until it has, the writer may still answer.
      await new Promise((r) => setTimeout(r, 50));
      refused = await raw(`${s.url}/api/defects/${id}/verdict`, "PUT", JSON_SAME, '{"verdict":"false_reject"}');
    }
    assert.equal(refused.status, 503, refused.body);
    assert.match(refused.body, /E_STORE_WORKER/);
    assert.equal((await json<{ operator_verdict: string }>(s, `/api/defects/${id}`)).operator_verdict, "confirmed", "reads go on; the refused write left no trace");

    await s.app.stop("test");
    const db = new Database(s.dbPath, { readonly: true });
    assert.deepEqual(db.prepare("SELECT inspection_id, verdict, operator FROM operator_verdicts").all(), [{ inspection_id: id, verdict: "confirmed", operator: "anonymous" }]);
    assert.deepEqual(db.prepare("SELECT alarm_id, operator FROM alarm_acks").all(), [{ alarm_id: alarm!.id, operator: "anonymous" }]);
    db.close();

    const again = new SqliteStore(storeOptions(s.dir), quietLog());
    await again.open();
    const review = again.review();
    try {
      assert.equal(review.defect(id)?.operator_verdict, "confirmed");
      assert.equal(review.alarms(10).items.find((a) => a.id === alarm!.id)?.acked_by, "anonymous");
    } finally {
      review.close();
      await again.close();
    }
  } finally {
    await s.stop();
  }
});
