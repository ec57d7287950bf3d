import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createHash } from "node:crypto";
import type { CameraConfig } from "../../daemon/config/schema.js";
import type { Frame } from "../../daemon/capture/camera.js";
import { WorkerCamera } from "../../daemon/capture/worker-camera.js";
import { lineConfig } from "../fakes/line.js";
import { quietLog } from "../fakes/quiet-log.js";

/** A camera section as the config loader would produce it (defaults applied). */
export function cameraConfig(camera: Record<string, unknown>): CameraConfig {
  return lineConfig(JSON.stringify({ camera, engine: { type: "simulated" } })).camera;
}

export function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), "edge-inspect-capture-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export function checksum(data: Buffer): string {
  return createHash("sha256").update(data).digest("hex");
}

/** Starts a camera and collects copies of its frames until `until` holds (or the source ends). */
export async function collect(camera: WorkerCamera, until: (frames: Frame[]) => boolean, timeoutMs = 20_000): Promise<Frame[]> {
  const frames: Frame[] = [];
  let done!: () => void;
  const finished = new Promise<void>((r) => (done = r));
  await camera.start((f) => {
    const copy: Frame = { seq: f.seq, tCaptureMs: f.tCaptureMs, width: f.width, height: f.height, data: Buffer.from(f.data) };
    if (f.truth) copy.truth = f.truth;
    frames.push(copy);
    if (until(frames)) done();
  });
  const timer = setTimeout(done, timeoutMs);
  await finished;
  clearTimeout(timer);
  await camera.stop();
  return frames;
}

/** `held`: frames the test's sink may keep retained at once, beyond the camera's queue. */
/**
 * A camera in its capture thread. Its open bound is a busy machine's, not a
 * line's: at load 20 a thread took over the default 10 s to load OpenCV and
 * open a synthetic source, and these tests are not about that bound.
 */
export function newCamera(camera: Record<string, unknown>, held = 0): WorkerCamera {
  return new WorkerCamera(cameraConfig({ open_timeout_ms: 120_000, ...camera }), quietLog(), held);
}

/** Polls until `cond` holds; fails the test after `timeoutMs`. */
export async function waitFor(what: string, cond: () => boolean, timeoutMs = 15_000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
