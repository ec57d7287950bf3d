import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { rmSync } from "node:fs";
import type { StoreStats } from "../../daemon/records/store.js";
import type { Alarm } from "../../daemon/util/alarm.js";
import { tempDir } from "./parts.js";

test("the database on a 2 MB tmpfs filled up: no crash, an alarm, bounded memory, recovery once space is freed", () => {
  const dir = tempDir("disk-full");
  const child = new URL("./store-child.js", import.meta.url).pathname;
  // A private mount namespace: the tmpfs exists only for the child and vanishes with it.
  const r = spawnSync("unshare", ["-m", "--propagation", "private", "sh", "-c", `mount -t tmpfs -o size=2m tmpfs "$1" && exec "$2" "$3" disk-full "$1"`, "sh", dir, process.execPath, child], {
    encoding: "utf8",
    timeout: 240_000,
  });
  rmSync(dir, { recursive: true, force: true });
  assert.equal(r.status, 0, `child failed: ${r.stderr}`);
  const out = JSON.parse(r.stdout.trim().split("\n").at(-1)!) as { recordedTotal: number; during: StoreStats; after: StoreStats; alarms: Alarm[] };
  const raised = out.alarms.filter((a) => a.active).map((a) => a.code);
  assert.ok(raised.includes("E_STORE_WRITE"), JSON.stringify(out.alarms));
  assert.ok(out.alarms.some((a) => !a.active && a.code === "E_STORE_WRITE"), "the alarm clears once space returns");
  assert.ok(out.during.writeErrors > 0);
  // While full: at most max_pending_rows (300) wait in memory; the rest are dropped and counted.
  assert.ok(out.during.pendingWrites <= 300, JSON.stringify(out.during));
  assert.ok(out.after.dropped > 0 && raised.includes("E_STORE_DROPPED"));
  assert.equal(out.after.pendingWrites, 0);
  assert.equal(out.after.recorded + out.after.dropped, out.recordedTotal);
});
