import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { readFileSync, renameSync, truncateSync, statSync } from "node:fs";
import { join } from "node:path";
import { App } from "../../daemon/app.js";
import { writeSyntheticDataset } from "../../daemon/capture/synthetic-dataset.js";
import { lineConfig } from "../fakes/line.js";
import { quietLog } from "../fakes/quiet-log.js";
import { newCamera, tempDir, waitFor } from "./camera-fixtures.js";

const RECONNECT = { initial_ms: 50, max_ms: 400, jitter: 0.2 };

function video(dir: string, parts = 10): string {
  writeSyntheticDataset({ out: dir, parts, seed: 2, defectRate: 0.3, width: 160, height: 120, fps: 50, video: "line.avi", images: false });
  return join(dir, "line.avi");
}

test("a looping file that disappears is reopened with backoff until it is back", async (t) => {
  const file = video(tempDir(t));
  const cam = newCamera({ type: "file", path: file, loop: true, fps: 100, reconnect: RECONNECT });
  let frames = 0;
  await cam.start(() => frames++);
  t.after(() => cam.stop());
  await waitFor("first frames", () => frames >= 5);
  renameSync(file, `${file}.moved`);
  await waitFor("the loss to be noticed", () => !cam.stats().connected);
  await waitFor("several reopen attempts", () => cam.stats().reconnects >= 3);
  const during = cam.stats().frames;
  await new Promise((r) => setTimeout(r, 150));
  assert.equal(cam.stats().frames, during, "no frames while the file is gone");
  renameSync(`${file}.moved`, file);
  await waitFor("frames again", () => cam.stats().connected && cam.stats().frames > during + 3);
  assert.equal(cam.stats().stalls, 0);
});

test("a file truncated mid-stream is an error, reopened with backoff, never a silent end", async (t) => {
  const file = video(tempDir(t), 30);
  truncateSync(file, Math.floor(statSync(file).size / 2));
  const cam = newCamera({ type: "file", path: file, pacing: "fast", reconnect: RECONNECT });
  let frames = 0;
  await cam.start(() => frames++);
  t.after(() => cam.stop());
  await waitFor("reopen attempts", () => cam.stats().reconnects >= 2);
  assert.ok(frames > 0 && frames < 30 * 3, `frames ${frames}`);
  assert.equal(cam.stats().frames, frames);
});

test("a network stream that stalls mid-read is detected, counted and reopened", async (t) => {
  const bytes = readFileSync(video(tempDir(t), 40));
  let requests = 0;
  const stalled: ServerResponse[] = [];
  const server = createServer((_req, res) => {
    requests++;
    res.writeHead(200, { "content-type": "video/x-msvideo", "content-length": bytes.length });
    if (requests === 1) {
      // Half the file, then silence with the connection held open.
      res.write(bytes.subarray(0, Math.floor(bytes.length * 0.6)));
      stalled.push(res);
    } else {
      res.end(bytes);
    }
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  t.after(() => {
    server.closeAllConnections();
    server.close();
  });
  const port = (server.address() as AddressInfo).port;
  const cam = newCamera({ type: "url", url: `http://127.0.0.1:${port}/line.avi`, stall_ms: 300, reconnect: RECONNECT });
  await cam.start(() => undefined);
  t.after(() => cam.stop());
  await waitFor("the stall", () => cam.stats().stalls === 1);
  assert.equal(cam.stats().connected, false);
  // The capture thread is blocked in the read until the stream gives up; ending it lets it reopen.
  for (const res of stalled) res.destroy();
  await waitFor("the second connection", () => requests >= 2);
  await waitFor("frames after the reconnect", () => cam.stats().frames > 30);
  assert.ok(cam.stats().reconnects >= 1);
});

test("triggered parts while the camera is gone fail safe as no-frame; the books balance", async (t) => {
  const file = video(tempDir(t));
  const config = lineConfig(`
line: { mode: triggered, travel_ms: 300, decision_margin_ms: 20, frame_tolerance_ms: 40 }
camera: { type: file, path: ${JSON.stringify(file)}, loop: true, fps: 50, reconnect: { initial_ms: 50, max_ms: 200 } }
trigger: { type: simulated, rate_hz: 25 }
engine: { type: simulated, latency_ms: 2, error_rate: 0 }
lifecycle: { progress_report_ms: 60000 }
`);
  const app = new App(config, quietLog());
  await app.start();
  await waitFor("parts judged", () => app.summary().accepted + app.summary().rejected >= 10);
  renameSync(file, `${file}.moved`);
  await waitFor("no-frame fail-safes", () => (app.summary().failsafe_by_reason["no-frame"] ?? 0) >= 5);
  renameSync(`${file}.moved`, file);
  const failedBefore = app.summary().failsafe_by_reason["no-frame"] ?? 0;
  const judgedBefore = app.summary().triggered;
  await waitFor("parts judged again", () => app.summary().triggered > judgedBefore + 15);
  const summary = await app.stop("test done");
  assert.equal(summary.in_flight, 0);
  assert.equal(summary.invariant_ok, true);
  assert.equal(summary.triggered, summary.accepted + summary.rejected);
  assert.ok((summary.failsafe_by_reason["no-frame"] ?? 0) >= failedBefore);
  // Once the file is back, frames pair with triggers again: not every later part failed.
  assert.ok(summary.triggered - (summary.failsafe_by_reason["no-frame"] ?? 0) > 10);
});
