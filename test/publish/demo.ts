import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { REPO } from "../cli/cli-helpers.js";

const BIN = fileURLToPath(new URL("../../../bin/edge-inspect", import.meta.url));

export interface Demo {
  child: ChildProcess;
  /** The printed `mosquitto_sub ...` line. */
  watch: string;
  port: number;
  /** What it printed so far. */
  out: () => string;
  stop: () => Promise<void>;
}

/**
 * `npm start`'s run (bin/edge-inspect run --config config/demo.yaml), moved
 * only off the shared data dir and the review server's fixed port (so that
 * tests run side by side); resolves once it printed how to watch it.
 */
export async function startDemo(env: NodeJS.ProcessEnv = {}): Promise<Demo> {
  const dir = mkdtempSync(join(tmpdir(), "ei-demo-"));
  const child = spawn(BIN, ["run", "--config", "config/demo.yaml"], {
    cwd: REPO,
    env: { ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("EDGE_INSPECT_"))), EDGE_INSPECT_DATA_DIR: dir, EDGE_INSPECT_HTTP__PORT: "0", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stderr!.on("data", (d: Buffer) => (err += d.toString()));
  const closed = new Promise((r) => child.once("close", r));
  const watch = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no 'watch it' line within 90 s:\n${out}\n${err}`)), 90_000);
    child.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      const m = /^watch it: (mosquitto_sub .*)$/m.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    child.once("close", () => reject(new Error(`the demo exited:\n${out}\n${err}`)));
  });
  return {
    child,
    watch,
    port: Number(/-p (\d+)/.exec(watch)![1]),
    out: () => out,
    stop: async () => {
      child.kill("SIGTERM");
      await closed;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
