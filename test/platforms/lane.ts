import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

export const REPO = fileURLToPath(new URL("../../../", import.meta.url));
const WITH_ADDONS = `${REPO}scripts/platforms/with-addons.sh`;

/** An arm64 root as scripts/platforms/test.sh prepared it, or why it could not. */
export interface Arm64Platform {
  name: string;
  /** Set when the root could not be made here (its archive unreachable). */
  unavailable?: string;
  root: string;
  /** Node for arm64 (bin/node), mounted at /opt/node in the root. */
  node: string;
  nodeVersion: string;
  /** The addons cross-built for arm64 and those built against this root, each laid out as in the repository. */
  addons: string[];
}

/** A Node for x86-64 from the npm registry with addons built for its ABI. */
export interface X64Node {
  version: string;
  node: string;
  addons: string[];
}

export interface Lane {
  arm64: Arm64Platform[];
  x64: X64Node[];
  /** The Node that npm test ran the unit suite on. */
  hostNode: string;
}

/** What test.sh prepared, from the JSON file named by EDGE_INSPECT_PLATFORMS. */
export function lane(): Lane {
  const file = process.env.EDGE_INSPECT_PLATFORMS;
  if (!file) throw new Error("EDGE_INSPECT_PLATFORMS is not set: run the platforms lane with npm run test:platforms");
  return JSON.parse(readFileSync(file, "utf8")) as Lane;
}

export interface Ran {
  status: number | null;
  stdout: string;
  stderr: string;
}

function ran(r: ReturnType<typeof spawnSync>): Ran {
  if (r.error) throw r.error;
  return { status: r.status, stdout: String(r.stdout), stderr: String(r.stderr) };
}

/** Runs a command from the repository inside the root, under qemu-user, with its addons in place. */
export function inRoot(p: Arm64Platform, command: string[], timeoutMs = 15 * 60_000): Ran {
  return ran(spawnSync("bash", [WITH_ADDONS, p.node, p.addons.join(":"), p.root, "--", ...command], { encoding: "utf8", timeout: timeoutMs, maxBuffer: 64 << 20 }));
}

/**
 * The environment for a command: without the test runner's mark of its own
 * child processes, which would make a test run inside one report to this
 * runner instead of printing its results, and without the lane's own
 * EDGE_INSPECT_PLATFORM* variables, which the daemons a test starts would
 * take for config overrides (every EDGE_INSPECT_* is one).
 */
function commandEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.NODE_TEST_CONTEXT;
  for (const name of Object.keys(env)) if (name.startsWith("EDGE_INSPECT_PLATFORM")) delete env[name];
  return env;
}

/** Runs a command from the repository with an x86-64 Node and the addons built for its ABI. */
export function withNode(n: X64Node, command: string[], timeoutMs = 30 * 60_000): Ran {
  return ran(spawnSync("bash", [WITH_ADDONS, n.node, n.addons.join(":"), "--", ...command], { env: commandEnv(), encoding: "utf8", timeout: timeoutMs, maxBuffer: 64 << 20 }));
}

/** Runs a command from the repository on the host as npm test does. */
export function onHost(command: string[]): Ran {
  return ran(spawnSync(command[0]!, command.slice(1), { cwd: REPO, env: commandEnv(), encoding: "utf8", maxBuffer: 64 << 20 }));
}

/** The last lines of a command's output, for an assertion message. */
export function tail(r: Ran, lines = 40): string {
  return `exit ${r.status}\n${(r.stdout + r.stderr).split("\n").slice(-lines).join("\n")}`;
}
