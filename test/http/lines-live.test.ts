import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { App } from "../../daemon/app.js";
import { lineConfig } from "../fakes/line.js";
import { quietLog } from "../fakes/quiet-log.js";
import { tempDir } from "../capture/camera-fixtures.js";
import { launchChromium, SCREENSHOTS } from "./browser.js";

type Live = { line: string; lines: string[]; paused: boolean; parts: { triggered: number } };

/** Two lines, lane2 with frames of another size, so that whose frame the live view shows is plain. */
async function twoLineStation(dir: string): Promise<App> {
  const app = new App(
    lineConfig(`
station: { site: t, device: d1 }
data_dir: ${JSON.stringify(join(dir, "data"))}
records: { type: memory }
publish: { type: memory }
http: { port: 0, live_interval_ms: 200, auth: { anonymous: operator } }
lifecycle: { progress_report_ms: 60000 }
engine: { type: simulated, latency_ms: 2, error_rate: 0 }
line: { mode: free-run, travel_ms: 300, decision_margin_ms: 20 }
actuation: { window_ms: 100 }
lines:
  lane1:
    camera: { type: synthetic, width: 320, height: 240, fps: 20, seed: 3 }
    actuation: { reject: { name: reject_1 } }
  lane2:
    camera: { type: synthetic, width: 160, height: 120, fps: 10, seed: 4 }
    line: { mode: free-run, travel_ms: 300, decision_margin_ms: 20 }
    actuation: { reject: { name: reject_2 } }
`),
    quietLog(),
  );
  await app.start();
  return app;
}

test("live view per line: /api/live, its events and frames are the line's named by ?line= (the first line's without), an unknown line is a 404 naming the lines", { timeout: 240_000 }, async (t) => {
  const app = await twoLineStation(tempDir(t));
  try {
    const url = app.http!.url;
    const live = async (q = ""): Promise<Live> => (await (await fetch(`${url}/api/live${q}`)).json()) as Live;
    assert.equal((await live()).line, "lane1");
    assert.deepEqual((await live()).lines, ["lane1", "lane2"]);
    // Each status is its own line's: lane2 paused, lane1 not; each count within its line's own books.
    app.lineNamed("lane2")!.pipeline.paused = true;
    const [one, two] = [await live("?line=lane1"), await live("?line=lane2")];
    assert.deepEqual([one.line, one.paused, two.line, two.paused], ["lane1", false, "lane2", true]);
    assert.ok(two.parts.triggered <= app.lineNamed("lane2")!.summary().triggered);
    app.lineNamed("lane2")!.pipeline.paused = false;

    // /healthz names each line's camera and model, lane1 first (the top level is lane1's, as on a one-line station).
    const health = (await (await fetch(`${url}/healthz`)).json()) as { camera_connected: boolean; lines: Array<{ line: string; camera_connected: boolean; model_version: string }> };
    assert.deepEqual(health.lines.map((l) => [l.line, l.camera_connected]), [["lane1", true], ["lane2", true]]);

    const missing = await fetch(`${url}/api/live?line=lane9`);
    assert.equal(missing.status, 404);
    assert.match(((await missing.json()) as { message: string }).message, /no line 'lane9' on this station \(lane1, lane2\)/);
    for (const path of ["/api/events?line=lane9", "/api/live/frame.jpg?line=lane9"]) assert.equal((await fetch(`${url}${path}`)).status, 404, path);
    const bad = await fetch(`${url}/api/live?line=${encodeURIComponent("a b")}`);
    assert.equal(bad.status, 400);
    assert.match(((await bad.json()) as { message: string }).message, /line: must be a line's name/);

    // In the browser: the page picks lane2, shows lane2's frames (160 wide), and offers both lines.
    const browser = await launchChromium();
    try {
      const page = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
      page.setDefaultTimeout(90_000);
      await page.goto(`${url}/live?line=lane2`);
      // lane2's frames are 160 wide, lane1's 320: a frame of the wrong line would never end this wait.
      await page.waitForFunction(() => (document.getElementById("frame") as HTMLImageElement).naturalWidth === 160);
      assert.deepEqual(await page.$$eval("#line option", (os) => os.map((o) => (o as HTMLOptionElement).value)), ["lane1", "lane2"]);
      assert.equal(await page.$eval("#line", (s) => (s as HTMLSelectElement).value), "lane2");
      await page.screenshot({ path: join(SCREENSHOTS, "live-lane2.png") });
      await page.selectOption("#line", "lane1");
      await page.waitForURL(/line=lane1/);
      await page.waitForFunction(() => (document.getElementById("frame") as HTMLImageElement).naturalWidth === 320);
    } finally {
      await browser.close();
    }
  } finally {
    await app.stop("test done");
  }
});
