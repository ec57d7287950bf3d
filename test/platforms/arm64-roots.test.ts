// The platforms lane's arm64 half (npm run test:platforms): in each arm64 root
// that scripts/platforms/test.sh made, under qemu-user, with the addons
// cross-built against that root. GPIO and V4L2 ioctls are not translated by
// qemu-user: hardware paths belong to the hardware lane.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { parseDocument } from "yaml";
import { inRoot, lane, onHost, REPO, tail, type Arm64Platform } from "./lane.js";

const GOLDEN = ["ok", "scratch", "crack", "missing_hole", "stain"].map((n) => `models/defect-demo/golden/${n}.png`);
const VARIANTS = ["float32", "int8", "tfjs"];
// onnxruntime's arm64 kernels (NEON, dot-product int8) and x86's (AVX2) sum
// in different orders; measured here the scores differ by at most ~1e-6
// (float32) and ~1e-3 (int8, one quantization step of the output).
const SCORE_TOLERANCE = 0.01;
/** A thread's start bound, and the engine's hang bound, under emulation (see the demo line's test). */
const EMULATED_START_MS = 300_000;
const EMULATED_HANG_MS = 60_000;

interface InferLine {
  image: string;
  verdict?: string;
  scores?: Record<string, number>;
  error?: { code: string; message: string };
}

function inferLines(out: string): InferLine[] {
  return out.trim().split("\n").map((l) => JSON.parse(l) as InferLine);
}

/** A scratch directory inside the root's /tmp: [path on the host, path inside the root]. */
function scratch(p: Arm64Platform, prefix: string): [string, string] {
  mkdirSync(join(p.root, "tmp"), { recursive: true });
  const host = mkdtempSync(join(p.root, "tmp", prefix));
  return [host, host.slice(p.root.length)];
}

for (const p of lane().arm64) {
  describe(p.name, { skip: p.unavailable }, () => {
    if (p.unavailable) return;
    test("every native addon loads under emulation and does its work", () => {
      // The library path bin/edge-inspect gives the daemon.
      const stub = p.addons.flatMap((d) => readdirNames(join(d, "build/no-gdal"))).find((f) => f.startsWith("libgdal.so"));
      const r = inRoot(p, ["env", `LD_LIBRARY_PATH=${stub ? "build/no-gdal" : ""}`, "node", "dist/test/platforms/load-addons.js"]);
      assert.equal(r.status, 0, tail(r));
      const got = JSON.parse(r.stdout) as { arch: string; node: string; addons: Record<string, { ok?: unknown; error?: string }>; gdal: string | null };
      assert.equal(got.arch, "arm64");
      assert.equal(got.node, `v${p.nodeVersion}`);
      for (const [name, res] of Object.entries(got.addons)) {
        assert.ok(res.ok, `${name}: ${res.error}`);
      }
      // Where the root's imgcodecs links GDAL, the stand-in serves it (Debian 12: GDAL 3.6, Debian 13: 3.10).
      const dump = spawnSync("objdump", ["-p", join(p.root, "usr/lib/aarch64-linux-gnu/libopencv_imgcodecs.so")], { encoding: "utf8" }).stdout;
      const soname = /NEEDED\s+(libgdal\.so\S*)/.exec(dump)?.[1];
      assert.equal(stub, soname, "build/no-gdal holds a stand-in exactly for the GDAL imgcodecs links");
      if (soname) assert.equal(got.gdal, `${REPO}build/no-gdal/${soname}`, "the GDAL stand-in is what OpenCV mapped");
    });

    test("every system package setup.sh installs exists under that name here", () => {
      const names = onHost(["bash", "scripts/setup.sh", "--packages"]);
      assert.equal(names.status, 0, tail(names));
      const r = inRoot(p, ["apt-get", "install", "--simulate", "--no-install-recommends", ...names.stdout.trim().split(/\s+/)]);
      assert.equal(r.status, 0, tail(r));
    });

    test("check-config config/example.yaml", () => {
      const r = inRoot(p, ["bin/edge-inspect", "check-config", "config/example.yaml"]);
      assert.equal(r.status, 0, tail(r));
    });

    for (const variant of VARIANTS) {
      test(`infer on the demo model's golden images (${variant}): x86's verdicts, scores within ${SCORE_TOLERANCE}`, () => {
        const args = ["bin/edge-inspect", "infer", "--model", "models/defect-demo", "--variant", variant, "--json", ...GOLDEN];
        const host = onHost(args);
        assert.equal(host.status, 0, tail(host));
        const arm = inRoot(p, args);
        assert.equal(arm.status, 0, tail(arm));
        const want = inferLines(host.stdout);
        const got = inferLines(arm.stdout);
        assert.equal(got.length, GOLDEN.length);
        for (const [i, g] of got.entries()) {
          const w = want[i]!;
          assert.equal(g.error, undefined, JSON.stringify(g.error));
          assert.equal(g.verdict, w.verdict, g.image);
          for (const [label, score] of Object.entries(w.scores!)) {
            const d = Math.abs(g.scores![label]! - score);
            assert.ok(d <= SCORE_TOLERANCE, `${g.image} ${label}: ${g.scores![label]} on arm64, ${score} on x86`);
          }
        }
      });
    }

    test("the demo line for 100 parts: books balance, every part in an integrity-checked SQLite file", () => {
      const [host, inside] = scratch(p, "demo-");
      // The demo as shipped, but for its data directory and its threads'
      // bounds: loading OpenCV into the capture thread, or the model with its
      // warm-up and golden images into the engine's, and each inference take
      // 10-50 times as long under emulation on a busy host (the capture
      // thread missed its 10 s here at load 27).
      const demo = parseDocument(readFileSync("config/demo.yaml", "utf8"));
      demo.set("data_dir", `${inside}/data`);
      demo.setIn(["camera", "open_timeout_ms"], EMULATED_START_MS);
      demo.setIn(["engine_runtime", "load_timeout_ms"], EMULATED_START_MS);
      demo.setIn(["engine_runtime", "hang_timeout_ms"], EMULATED_HANG_MS);
      writeFileSync(join(host, "demo.yaml"), demo.toString());
      const r = inRoot(p, ["bin/edge-inspect", "run", "--config", `${inside}/demo.yaml`, "--max-parts", "100", "--summary-json", `${inside}/summary.json`]);
      assert.equal(r.status, 0, tail(r));
      const s = JSON.parse(readFileSync(join(host, "summary.json"), "utf8")) as { triggered: number; accepted: number; rejected: number; failsafe: number; failsafe_by_reason: Record<string, number>; in_flight: number; invariant_ok: boolean };
      assert.equal(s.invariant_ok, true);
      // Late verdicts are the emulation's slowness (fail-safe by design); an
      // engine error is the platform's: the model must judge every part it gets.
      assert.equal(s.failsafe_by_reason.error, 0, `parts fail-safe for an engine error: ${JSON.stringify(s.failsafe_by_reason)}\n${tail(r)}`);
      assert.equal(s.triggered, 100);
      assert.equal(s.in_flight, 0);
      assert.equal(s.accepted + s.rejected, 100);
      const db = inRoot(p, ["node", "dist/test/platforms/inspect-db.js", `${inside}/data/records.sqlite`]);
      assert.equal(db.status, 0, tail(db));
      const { integrity, outcomes } = JSON.parse(db.stdout) as { integrity: string; outcomes: { run_id: string; outcome: string; n: number; failsafe: number }[] };
      assert.equal(integrity, "ok");
      assert.equal(new Set(outcomes.map((o) => o.run_id)).size, 1);
      const n = (o: string) => outcomes.find((x) => x.outcome === o)?.n ?? 0;
      assert.equal(n("accepted"), s.accepted);
      assert.equal(n("rejected"), s.rejected);
      assert.equal(outcomes.reduce((a, o) => a + o.failsafe, 0), s.failsafe);
    });

    test("the records and outbox unit tests", () => {
      const r = inRoot(p, ["node", "scripts/run-tests.js", "dist/test/records/", "dist/test/publish/outbox"], 30 * 60_000);
      assert.equal(r.status, 0, tail(r, 80));
      assert.match(r.stdout, /^ℹ fail 0$/m);
      assert.match(r.stdout, /^ℹ pass [1-9]/m);
    });
  });
}

function readdirNames(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir) : [];
}
