import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cv } from "../../daemon/vision/opencv.js";
import { REPO, waitForOutput } from "../cli/cli-helpers.js";
import { CLASSIFIER, CLASSIFY_IMAGES } from "../inference/fixtures.js";

const COMMAND = join(REPO, "bin/edge-inspect");
const STAND_IN = join(REPO, "build/no-gdal");

/** The GDAL soname the system imgcodecs is linked against, if any. */
function gdalNeeded(): string | undefined {
  const libdir = spawnSync("pkg-config", ["--variable=libdir", "opencv4"], { encoding: "utf8" }).stdout.trim();
  const dump = spawnSync("objdump", ["-p", join(libdir, "libopencv_imgcodecs.so")], { encoding: "utf8" }).stdout;
  return /NEEDED\s+(libgdal\.so\S*)/.exec(dump)?.[1];
}

function files(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name));
}

const soname = gdalNeeded();

test("setup builds the GDAL stand-in exactly when the system imgcodecs links GDAL", () => {
  if (soname) assert.ok(existsSync(join(STAND_IN, soname)), `${soname} is linked but build/no-gdal has no stand-in`);
  else assert.equal(existsSync(STAND_IN), false, "no GDAL to stand in for, yet build/no-gdal exists");
});

test("the daemon started as edge-inspect maps the stand-in, not GDAL, and its snapshots are real JPEGs", async () => {
  const dir = mkdtempSync(join(tmpdir(), "ei-nogdal-"));
  const config = join(dir, "line.yaml");
  writeFileSync(
    config,
    `data_dir: ${dir}/data
line: { mode: free-run, travel_ms: 300 }
camera: { type: synthetic, width: 320, height: 240, fps: 40, seed: 3, defect_rate: 0.5 }
engine: { type: simulated, latency_ms: 2 }
records: { type: sqlite }
snapshots: { rejected: true }
http: { enabled: false }
lifecycle: { progress_report_ms: 200 }
`,
  );
  const child = spawn(COMMAND, ["run", "--config", config, "--max-parts", "60"], { cwd: REPO, stdio: ["ignore", "pipe", "pipe"] });
  const done = new Promise<number | null>((resolve) => child.on("close", resolve));
  let stderr = "";
  child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
  await waitForOutput(child, /camera open/);
  const maps = readFileSync(`/proc/${child.pid}/maps`, "utf8");
  const gdal = [...new Set(maps.split("\n").filter((l) => l.includes("libgdal")).map((l) => l.slice(l.indexOf("/"))))];
  assert.deepEqual(gdal, soname ? [join(STAND_IN, soname)] : []);
  assert.equal(await done, 0, stderr);

  const jpegs = files(join(dir, "data")).filter((f) => f.endsWith(".jpg"));
  assert.ok(jpegs.length > 0, "rejected parts left no snapshot");
  const image = cv.imdecode(readFileSync(jpegs[0]!));
  assert.deepEqual([image.cols, image.rows, image.channels], [320, 240, 3]);
});

test("under the stand-in, PNGs still decode and a file only GDAL could open is a coded error, not a crash", () => {
  const dir = mkdtempSync(join(tmpdir(), "ei-nogdal-"));
  // OpenCV hands a file that starts like this (a NITF satellite image) to its GDAL decoder.
  const nitf = join(dir, "scene.ntf");
  writeFileSync(nitf, Buffer.concat([Buffer.from("NITF02.10"), Buffer.alloc(2000, 0x30)]));
  const r = spawnSync(COMMAND, ["infer", "--model", CLASSIFIER, "--variant", "int8", "--json", `${CLASSIFY_IMAGES}/hole-03.png`, nitf], {
    cwd: REPO,
    encoding: "utf8",
  });
  assert.equal(r.signal, null, r.stderr);
  assert.equal(r.status, 1, r.stderr);
  const [png, satellite] = r.stdout.trim().split("\n").map((l) => JSON.parse(l) as { verdict?: string; error?: { code: string } });
  assert.equal(png!.verdict, "reject");
  assert.equal(satellite!.error?.code, "E_IMAGE_FORMAT");
});
