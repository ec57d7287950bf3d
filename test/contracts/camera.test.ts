import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeSyntheticDataset } from "../../daemon/capture/synthetic-dataset.js";
import { newCamera } from "../capture/camera-fixtures.js";
import { cameraContract } from "./camera-contract.js";

/** A short synthetic recording: a lossless video and its frames as images. */
function recording(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), "edge-inspect-camera-contract-"));
  writeSyntheticDataset({ out: dir, parts: 12, seed: 5, defectRate: 0.3, width: 160, height: 120, fps: 25, video: "line.avi", images: true });
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

const NO_RETRY = { reconnect: { initial_ms: 60_000 } };

cameraContract("synthetic", () => ({ make: (held) => newCamera({ type: "synthetic", width: 160, height: 120, fps: 100, seed: 3 }, held), cleanup: () => undefined }), false);

cameraContract("file", () => {
  const r = recording();
  return {
    make: (held) => newCamera({ type: "file", path: join(r.dir, "line.avi"), loop: true, pacing: "realtime", fps: 100 }, held),
    broken: { make: () => newCamera({ type: "file", path: join(r.dir, "missing.avi"), ...NO_RETRY }), codes: ["E_CAMERA_NOT_FOUND"] },
    cleanup: r.cleanup,
  };
}, true);

cameraContract("image folder", () => {
  const r = recording();
  return {
    make: (held) => newCamera({ type: "folder", path: join(r.dir, "images"), loop: true, fps: 100 }, held),
    broken: { make: () => newCamera({ type: "folder", path: join(r.dir, "none"), ...NO_RETRY }), codes: ["E_CAMERA_NOT_FOUND", "E_CAMERA_EMPTY"] },
    cleanup: r.cleanup,
  };
}, true);

cameraContract("replay", () => {
  const r = recording();
  return {
    make: (held) => newCamera({ type: "replay", path: join(r.dir, "line.avi"), fps: 100 }, held),
    broken: { make: () => newCamera({ type: "replay", path: join(r.dir, "missing.avi"), fps: 100, ...NO_RETRY }), codes: ["E_CAMERA_NOT_FOUND"] },
    cleanup: r.cleanup,
  };
}, true);
