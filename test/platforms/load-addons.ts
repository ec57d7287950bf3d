// Loads every native addon the daemon uses and does one small thing with
// each; prints one JSON object: arch, Node, and per addon what it returned or
// the error it threw. Run inside an arm64 root by arm64-roots.test.ts.
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";

const require = createRequire(import.meta.url);

/** A class an addon exports, by name; throws when the export is missing. */
function constructor(c: unknown): string {
  if (typeof c !== "function") throw new Error(`exports ${typeof c}, not a class`);
  return c.name;
}

const checks: Record<string, () => unknown> = {
  // Loaded as the daemon loads it (the package's entry point chatters on stdout).
  "@u4/opencv4nodejs": async () => {
    const { cv } = await import("../../daemon/vision/opencv.js");
    const png = cv.imencode(".png", new cv.Mat(4, 4, cv.CV_8UC3, [0, 128, 255]));
    return { version: `${cv.version.major}.${cv.version.minor}.${cv.version.revision}`, pngBytes: png.length };
  },
  "better-sqlite3": () => {
    const Database = require("better-sqlite3") as typeof import("better-sqlite3");
    const db = new Database(":memory:");
    const row = db.prepare("SELECT sqlite_version() AS v").get() as { v: string };
    db.close();
    return { sqlite: row.v };
  },
  "unix-dgram": () => {
    const s = (require("unix-dgram") as { createSocket(type: string): { close(): void } }).createSocket("unix_dgram");
    s.close();
    return { socket: true };
  },
  epoll: () => ({ Epoll: constructor((require("epoll") as { Epoll: unknown }).Epoll) }),
  // native/: N-API, cross-built per root. The GPIO binding reads the clock
  // its edges are stamped with (qemu-user translates no GPIO ioctl).
  "gpio-cdev": () => {
    const g = require(new URL("../../../build/gpio-cdev/gpio_cdev.node", import.meta.url).pathname) as { monotonicMs(): number };
    const t = g.monotonicMs();
    if (!(t > 0)) throw new Error(`monotonicMs() gave ${t}`);
    return { monotonicMs: t };
  },
  "reject-core": () => ({ RejectCore: constructor((require(new URL("../../../build/reject-core/reject_core.node", import.meta.url).pathname) as { RejectCore: unknown }).RejectCore) }),
  "onnxruntime-node": async () => {
    const ort = require("onnxruntime-node") as typeof import("onnxruntime-node");
    const session = await ort.InferenceSession.create("models/defect-demo/model.int8.onnx");
    return { inputs: session.inputNames };
  },
};

const addons: Record<string, unknown> = {};
for (const [name, check] of Object.entries(checks)) {
  try {
    addons[name] = { ok: await check() };
  } catch (err) {
    addons[name] = { error: err instanceof Error ? err.message : String(err) };
  }
}
// Which GDAL the process mapped: the stand-in (build/no-gdal) or the real one.
const gdal = readFileSync("/proc/self/maps", "utf8").split("\n").map((l) => l.split(/\s+/)[5] ?? "").find((f) => /\/libgdal\.so/.test(f)) ?? null;
process.stdout.write(JSON.stringify({ arch: process.arch, node: process.version, addons, gdal }) + "\n");
