import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { migrate } from "../../daemon/records/migrations.js";
import type { Cursor, DefectFilter, Review } from "../../daemon/records/review.js";
import { SqliteStore } from "../../daemon/records/sqlite-store.js";
import { quietLog } from "../fakes/quiet-log.js";
import { storeOptions } from "../records/parts.js";

const ROWS = 160_000;
const CLASSES = ["scratch", "crack", "stain", "missing_hole", "failsafe:late"];

/** 160,000 inspections, two in three rejected, several per millisecond so keys tie on time. */
function seed(path: string): { rejected: number; byClass: Record<string, number>; t0: number } {
  const db = new Database(path);
  db.pragma("journal_mode = WAL");
  migrate(db);
  const ins = db.prepare(`INSERT INTO inspections (id, run_id, part_id, triggered_at, settled_at, time_ms, outcome, verdict, reason, model_version)
    VALUES (?, '1', ?, '', '', ?, ?, ?, ?, 'm1')`);
  const def = db.prepare("INSERT INTO defects (inspection_id, class, score, box_x, box_y, box_w, box_h) VALUES (?, ?, ?, 1, 2, 3, 4)");
  const t0 = 1_700_000_000_000;
  let rejected = 0;
  const byClass: Record<string, number> = {};
  db.transaction(() => {
    for (let i = 1; i <= ROWS; i++) {
      const rej = i % 3 !== 0;
      const cls = rej ? CLASSES[i % CLASSES.length]! : "pass";
      ins.run(i, i, t0 + Math.floor(i / 4), rej ? "rejected" : "accepted", rej ? "reject" : "pass", cls);
      if (rej) {
        def.run(i, cls, 0.5 + (i % 50) / 100);
        rejected++;
        byClass[cls] = (byClass[cls] ?? 0) + 1;
      }
    }
  })();
  db.close();
  return { rejected, byClass, t0 };
}

function pageAll(review: Review, filter: DefectFilter, limit: number): number[] {
  const ids: number[] = [];
  let before: Cursor | undefined;
  for (;;) {
    const page = review.defects(filter, limit, before);
    ids.push(...page.items.map((d) => d.id));
    if (!page.next) return ids;
    before = page.next;
  }
}

test("keyset paging walks 100,000+ rejected rows newest first, each exactly once, on an index", async () => {
  const dir = mkdtempSync(join(tmpdir(), "edge-inspect-paging-"));
  const path = join(dir, "records.sqlite");
  try {
    const { rejected, byClass, t0 } = seed(path);
    assert.ok(rejected > 100_000);
    // Operator verdicts are written by the store's writer thread; reads use the review's own read-only connection.
    const store = new SqliteStore(storeOptions(dir, { retention: { maxAgeDays: 100_000, maxDbBytes: 2 ** 40, maxSnapshotBytes: 1 << 30, checkMs: 3_600_000 } }), quietLog());
    await store.open();
    const review = store.review();
    try {
      const ids = pageAll(review, {}, 200);
      assert.equal(ids.length, rejected);
      for (let i = 1; i < ids.length; i++) assert.ok(ids[i]! < ids[i - 1]!, `row ${i} out of order`);

      const cracks = pageAll(review, { class: "crack" }, 200);
      assert.equal(cracks.length, byClass.crack);

      // A time window: [t0 + 10,000, t0 + 20,000) holds the ids whose floor(id / 4) falls in it.
      const window = pageAll(review, { fromMs: t0 + 10_000, toMs: t0 + 20_000, class: "stain" }, 50);
      const expected = [];
      for (let i = 79_999; i >= 40_000; i--) if (i % 3 !== 0 && CLASSES[i % CLASSES.length] === "stain") expected.push(i);
      assert.deepEqual(window, expected);

      await review.setVerdict(ids[5]!, "false_reject", "op");
      await review.setVerdict(ids[90_000]!, "confirmed", "op");
      assert.deepEqual(pageAll(review, { verdict: "false_reject" }, 10), [ids[5]]);
      assert.equal(pageAll(review, { verdict: "unreviewed" }, 200).length, rejected - 2);

      // Deep pages cost what the first does: the plan walks an index and never sorts.
      const plan = (sql: string) => {
        const db = new Database(path, { readonly: true });
        try {
          return (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all() as Array<{ detail: string }>).map((r) => r.detail).join(" | ");
        } finally {
          db.close();
        }
      };
      const deep = plan(`SELECT i.id FROM inspections i LEFT JOIN operator_verdicts v ON v.inspection_id = i.id
        WHERE i.outcome = 'rejected' AND (i.time_ms, i.id) < (1700000010000, 40000) ORDER BY i.time_ms DESC, i.id DESC LIMIT 51`);
      assert.match(deep, /inspections_rejected_time/);
      assert.doesNotMatch(deep, /TEMP B-TREE/);
      const byCls = plan(`SELECT i.id FROM inspections i WHERE i.outcome = 'rejected' AND i.reason = 'crack'
        AND (i.time_ms, i.id) < (1700000010000, 40000) ORDER BY i.time_ms DESC, i.id DESC LIMIT 51`);
      assert.match(byCls, /inspections_rejected_reason/);
      assert.doesNotMatch(byCls, /TEMP B-TREE/);
    } finally {
      review.close();
      await store.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
