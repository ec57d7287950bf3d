import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";

export const MAIN = fileURLToPath(new URL("../../daemon/main.js", import.meta.url));
export const REPO = fileURLToPath(new URL("../../../", import.meta.url));

export interface Ran {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Starts the CLI as a child process with a clean EDGE_INSPECT_* environment. */
export function startCli(args: string[], env: NodeJS.ProcessEnv = {}): { child: ChildProcess; done: Promise<Ran> } {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("EDGE_INSPECT_") && k !== "NOTIFY_SOCKET"));
  const child = spawn(process.execPath, [MAIN, ...args], { cwd: REPO, env: { ...base, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<Ran>((resolve) => child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr })));
  return { child, done };
}

export function runCli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Ran> {
  return startCli(args, env).done;
}

/** Resolves when the child's stdout has printed a line matching `re`. */
// Generous: a daemon starting on a machine with twice as many busy loops as cores beside it.
export function waitForOutput(child: ChildProcess, re: RegExp, timeoutMs = 90_000): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = "";
    const timer = setTimeout(() => reject(new Error(`no output matching ${re} within ${timeoutMs} ms:\n${seen}`)), timeoutMs);
    child.stdout!.on("data", (d: Buffer) => {
      seen += d.toString();
      if (re.test(seen)) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
}
