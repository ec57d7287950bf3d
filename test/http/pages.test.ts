import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { launchChromium, SCREENSHOTS } from "./browser.js";
import { startStation, waitForRejects } from "./station.js";

/** Rows triggered this long ago are settled and committed, even on a busy machine. */
const SETTLED_MS = 3000;

const localInput = (ms: number) => {
  const d = new Date(ms);
  return new Date(d.getTime() - d.getTimezoneOffset() * 60_000).toISOString().slice(0, 19);
};

test("the review pages in headless Chromium against the demo line", { timeout: 240_000 }, async () => {
  const s = await startStation();
  const browser = await launchChromium();
  /** Which wait a timeout came from, with what the page showed then. */
  let at = "start";
  let shown = async () => "";
  try {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, acceptDownloads: true });
    const page = await context.newPage();
    // The machine may be busy with other tests: patience, not speed, is what is tested here.
    page.setDefaultTimeout(90_000);
    shown = async () => page.evaluate(() => ["verdict", "caption", "error", "pageinfo"].map((id) => `${id}=${document.getElementById(id)?.textContent ?? "-"}`).join(" | "));
    const pageErrors: string[] = [];
    page.on("pageerror", (e) => pageErrors.push(e.message));

    // Live view: the verdict moves on by itself, and a frame arrives with its boxes.
    await page.goto(`${s.url}/live`);
    at = "wait 1";
    await page.waitForFunction(() => document.getElementById("verdict")!.dataset.part !== undefined);
    const firstPart = await page.getAttribute("#verdict", "data-part");
    at = "wait 2";
    await page.waitForFunction((f) => document.getElementById("verdict")!.dataset.part !== f, firstPart);
    at = "wait 3";
    // The caption names the frame's part before the browser has decoded the image: wait for both.
    // The camera's frame (320 wide) with its caption; asked in one go, since the next frame may be on its way (naturalWidth 0 while it loads).
    await page.waitForFunction(() => {
      const img = document.getElementById("frame") as HTMLImageElement;
      return document.getElementById("caption")!.dataset.part !== undefined && img.complete && img.naturalWidth === 320;
    });
    assert.ok(Number(await page.textContent("#triggered")) > 0);
    assert.equal(await page.textContent("#state"), "running");
    await page.screenshot({ path: join(SCREENSHOTS, "live.png") });

    // Defect log: pages of 10 going back in time, then a class filter.
    await waitForRejects(s, 25, 90_000);
    await page.goto(`${s.url}/defects?limit=10`);
    at = "wait 4";
    await page.waitForSelector("#rows tr");
    const ids = async () => page.$$eval("#rows tr", (rows) => rows.map((r) => Number((r as HTMLElement).dataset.id)));
    const newest = await ids();
    assert.equal(newest.length, 10);
    await page.click("#older");
    at = "wait 5";
    await page.waitForFunction((first) => Number((document.querySelector("#rows tr") as HTMLElement | null)?.dataset.id) !== first, newest[0]);
    const older = await ids();
    assert.equal(older.length, 10);
    assert.ok(Math.max(...older) < Math.min(...newest), "the next page holds older rows only");
    assert.equal(await page.textContent("#pageinfo"), "page 2");
    await page.click("#newest");
    at = "wait 6";
    await page.waitForFunction(() => document.getElementById("pageinfo")!.textContent === "page 1");
    // Only rows committed well before now: the filtered set no longer changes while the line runs.
    const logged = ((await (await fetch(`${s.url}/api/defects?limit=200`)).json()) as { items: Array<{ time_ms: number; class: string }> }).items;
    const oldest = logged[logged.length - 1]!;
    const settledBefore = Date.now() - SETTLED_MS;
    if (oldest.time_ms >= settledBefore - 1000) await new Promise((r) => setTimeout(r, oldest.time_ms - settledBefore + 2000));
    // The oldest row's class: at least that row is in the filtered set.
    const cls = oldest.class;
    await page.selectOption("select[name=class]", cls);
    await page.fill("input[name=to]", localInput(Date.now() - SETTLED_MS));
    await page.click("button[type=submit]");
    at = "wait 7";
    await page.waitForFunction((c) => [...document.querySelectorAll("#rows td.cls")].every((td) => td.textContent === c) && document.querySelectorAll("#rows tr").length > 0, cls);
    const firstPage = await ids();
    const filterUrl = new URL(page.url());
    assert.equal(filterUrl.searchParams.get("class"), cls);
    await page.screenshot({ path: join(SCREENSHOTS, "defects.png"), fullPage: true });
    // CSV export downloads exactly the filtered rows.
    const [download] = await Promise.all([page.waitForEvent("download"), page.click("#export")]);
    const csv = readFileSync((await download.path())!, "utf8").trim().split("\r\n");
    assert.equal(csv[0], "id,time,run_id,part_id,class,score,model_version,failsafe,operator_verdict,snapshot");
    const csvIds = csv.slice(1).map((l) => Number(l.split(",")[0]));
    assert.ok(csv.slice(1).every((l) => l.split(",")[4] === cls));
    const apiIds: number[] = [];
    for (let before: string | null = ""; before !== null; ) {
      const q = new URLSearchParams(filterUrl.search);
      q.delete("limit");
      q.set("limit", "200");
      if (before) q.set("before", before);
      const r = (await (await fetch(`${s.url}/api/defects?${q}`)).json()) as { items: Array<{ id: number }>; next: string | null };
      apiIds.push(...r.items.map((i) => i.id));
      before = r.next;
    }
    assert.ok(apiIds.length > 0);
    assert.deepEqual(csvIds, apiIds);

    // Defect detail: boxes over the part, and a false-reject verdict that is kept in SQLite.
    const id = firstPage[0]!;
    await page.click(`#rows tr[data-id="${id}"] td:nth-child(2) a`);
    at = "wait 8";
    await page.waitForSelector("svg#boxes rect.box");
    assert.equal(await page.getAttribute("svg#boxes rect.box", "data-class"), cls);
    assert.ok((await page.locator("#timings tr").count()) >= 5);
    await page.screenshot({ path: join(SCREENSHOTS, "defect.png") });
    await page.click("#false");
    at = "wait 9";
    await page.waitForFunction(() => document.getElementById("opverdict")!.dataset.verdict === "false_reject");
    const db = new Database(s.dbPath, { readonly: true });
    try {
      const row = db.prepare("SELECT verdict, operator FROM operator_verdicts WHERE inspection_id = ?").get(id);
      assert.deepEqual(row, { verdict: "false_reject", operator: "anonymous" });
    } finally {
      db.close();
    }
    await page.goto(`${s.url}/defects?verdict=false_reject`);
    at = "wait 10";
    await page.waitForSelector("#rows tr");
    assert.deepEqual(await ids(), [id]);

    // Alarms: a raised alarm is acknowledged from the list.
    s.app.store.recordAlarm({ code: "E_BIN_FULL", message: "reject bin 1 is full", active: true, timeMs: Date.now() });
    await s.app.store.flush();
    await page.goto(`${s.url}/alarms`);
    // The line may raise alarms of its own meanwhile: the test's alarm is found by its code.
    const row = page.locator("#rows tr", { hasText: "E_BIN_FULL" });
    at = "wait 11";
    await row.locator("button.ack").click();
    at = "wait 12";
    await row.locator("td.acked", { hasText: /^anonymous/ }).waitFor();
    await page.screenshot({ path: join(SCREENSHOTS, "alarms.png") });
    assert.deepEqual(pageErrors, []);
  } catch (err) {
    throw new Error(`${at}: ${(err as Error).message}\npage: ${await shown().catch(() => "?")}`, { cause: err });
  } finally {
    await browser.close();
    await s.stop();
  }
});
