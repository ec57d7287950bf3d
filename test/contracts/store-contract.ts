import { test } from "node:test";
import assert from "node:assert/strict";
import type { Store, StoreStats } from "../../daemon/records/store.js";
import { defectMessage } from "../../daemon/publish/messages.js";
import { settledPart } from "../records/parts.js";
import { until } from "./coded.js";

export interface StoreUnderTest {
  store: Store;
  /** Removes what the store left behind (files), after close. */
  cleanup(): void;
}

const station = { site: "s", line: "l", device: "d" };

function nonDecreasing(before: StoreStats, after: StoreStats): void {
  for (const k of ["recorded", "writeErrors", "dropped", "outboxDropped"] as const) assert.ok(after[k] >= before[k], `${k} went from ${before[k]} to ${after[k]}`);
}

/** What every Store does, whatever keeps the rows. */
export function storeContract(name: string, make: () => StoreUnderTest): void {
  test(`Store contract (${name}): open gives a run id; recorded parts, their outbox and the review agree; counters only grow`, async () => {
    const { store, cleanup } = make();
    try {
      await store.open();
      assert.ok(typeof store.runId === "string" && store.runId.length > 0, "a run id once open");
      let announced = 0;
      store.onOutbox(() => announced++);
      const start = store.stats();
      assert.deepEqual([start.recorded, start.pendingWrites, start.outbox], [0, 0, 0]);
      const parts = Array.from({ length: 30 }, (_, i) => settledPart(i + 1));
      for (const p of parts.slice(0, 15)) store.record(p, p.outcome === "rejected" ? [defectMessage(station, store.runId, p)] : []);
      await store.flush();
      const mid = store.stats();
      for (const p of parts.slice(15)) store.record(p, p.outcome === "rejected" ? [defectMessage(station, store.runId, p)] : []);
      await store.flush();
      const end = store.stats();
      nonDecreasing(start, mid);
      nonDecreasing(mid, end);
      const rejected = parts.filter((p) => p.outcome === "rejected");
      assert.equal(end.recorded, 30);
      assert.equal(end.pendingWrites, 0);
      assert.equal(end.outbox, rejected.length);
      await until("an outbox announcement", () => announced > 0);

      const first = await store.outboxPeek(4, 0);
      assert.deepEqual(first.map((e) => (JSON.parse(e.message.payload) as { part: number }).part), rejected.slice(0, 4).map((p) => p.id), "publish order is record order");
      assert.ok(first.every((e, i) => i === 0 || e.seq > first[i - 1]!.seq), "seqs increase");
      const after = await store.outboxPeek(100, first[1]!.seq);
      assert.equal(after[0]!.seq, first[2]!.seq, "afterSeq skips what was offered");
      store.outboxDelete(first.map((e) => e.seq));
      const left = await store.outboxPeek(100, 0);
      assert.equal(left.length, rejected.length - 4, "an acknowledged message is never offered again");
      assert.ok(!left.some((e) => first.some((f) => f.seq === e.seq)));

      store.recordAlarm({ code: "bin-full", message: "reject bin of 'reject' is full", active: true, timeMs: Date.now(), station: "reject" });
      await store.flush();
      const review = store.review();
      try {
        const page = review.defects({}, 100);
        assert.equal(page.items.length, rejected.length, "the review lists every rejected part");
        assert.deepEqual(new Set(page.items.map((d) => d.part_id)), new Set(rejected.map((p) => p.id)));
        assert.ok(page.items.every((d) => d.run_id === store.runId));
        const target = page.items[0]!;
        assert.equal(await review.setVerdict(target.id, "false_reject", "op"), true);
        assert.equal(review.defect(target.id)?.operator_verdict, "false_reject");
        assert.equal(await review.setVerdict(999_999, "confirmed", "op"), false, "no such rejected part");
        const alarms = review.alarms(10).items;
        assert.deepEqual(alarms.map((a) => [a.code, a.active]), [["bin-full", true]]);
        assert.equal(await review.ackAlarm(alarms[0]!.id, "op"), "ok");
        assert.equal(await review.ackAlarm(999_999, "op"), "missing");
      } finally {
        review.close();
      }
    } finally {
      await store.close();
      cleanup();
    }
  });

  test(`Store contract (${name}): close twice is harmless, and what is recorded after close neither throws nor counts`, async () => {
    const { store, cleanup } = make();
    try {
      await store.open();
      store.record(settledPart(1), []);
      await store.close();
      const closed = store.stats();
      assert.equal(closed.recorded, 1, "close writes what was recorded before it");
      await store.close();
      store.record(settledPart(2), []);
      await store.flush();
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(store.stats().recorded, 1, "a closed store takes no more rows");
    } finally {
      cleanup();
    }
  });
}
