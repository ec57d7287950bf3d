import { test } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startCli, waitForOutput } from "../cli/cli-helpers.js";

interface DgramServer {
  bind(path: string): void;
  close(): void;
}
const unix = createRequire(import.meta.url)("unix-dgram") as {
  createSocket(type: "unix_dgram", onMessage: (buf: Buffer) => void): DgramServer;
};

test("under systemd: READY after start, WATCHDOG while making progress, STOPPING on SIGTERM", async () => {
  const dir = mkdtempSync(join(tmpdir(), "ei-notify-"));
  const sock = join(dir, "notify.sock");
  const messages: string[] = [];
  const server = unix.createSocket("unix_dgram", (buf) => messages.push(buf.toString()));
  server.bind(sock);
  const config = join(dir, "line.yaml");
  writeFileSync(config, "camera: { type: synthetic, width: 320, height: 240, fps: 30 }\nengine: { type: simulated, latency_ms: 2 }\nline: { travel_ms: 200 }\nhttp: { enabled: false }\n");
  try {
    const { child, done } = startCli(["run", "--config", config], { NOTIFY_SOCKET: sock, WATCHDOG_USEC: "200000" });
    await waitForOutput(child, /READY/);
    await new Promise((r) => setTimeout(r, 700));
    child.kill("SIGTERM");
    const r = await done;
    assert.equal(r.code, 0, r.stderr);
    const ready = messages.findIndex((m) => m.startsWith("READY=1"));
    const stopping = messages.findIndex((m) => m === "STOPPING=1");
    assert.ok(ready >= 0, `READY=1 sent: ${JSON.stringify(messages)}`);
    assert.match(messages[ready]!, /STATUS=running: free-run/);
    assert.ok(messages.filter((m) => m === "WATCHDOG=1").length >= 2, "watchdog pinged at half of WATCHDOG_USEC");
    assert.ok(stopping > ready, "STOPPING=1 after READY=1");
  } finally {
    server.close();
  }
});
