import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";

/** Load beside the daemon, at normal priority, as other work on a board would be. */
export interface Stressor {
  name: string;
  start(): void;
  stop(): Promise<void>;
}

class Processes implements Stressor {
  private children: ChildProcess[] = [];
  private dir: string | undefined;

  constructor(
    readonly name: string,
    private readonly commands: (dir: string) => Array<[string, string[]]>,
  ) {}

  start(): void {
    this.dir = mkdtempSync(join(tmpdir(), "edge-inspect-stress-"));
    this.children = this.commands(this.dir).map(([cmd, args]) => {
      // At nice 0 whatever this process runs at (the daemon under test lowers its own): other work on a board.
      const c = spawn("sh", ["-c", 'renice -n 0 -p $$ >/dev/null && exec "$@"', "sh", cmd, ...args], { stdio: "ignore" });
      c.on("error", (err) => {
        throw new Error(`${cmd} cannot run: ${err.message}; npm run bench installs stress-ng`);
      });
      return c;
    });
  }

  async stop(): Promise<void> {
    await Promise.all(
      this.children.map(
        (c) =>
          new Promise<void>((r) => {
            if (c.exitCode !== null || c.signalCode !== null) return r();
            c.once("exit", () => r());
            c.kill("SIGKILL");
          }),
      ),
    );
    this.children = [];
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
  }
}

const busy = (n: number): Array<[string, string[]]> => Array.from({ length: n }, () => ["sh", ["-c", "while :; do :; done"]]);

/** The matrix of issue-level stress cases; `cores` busy loops and twice that, memory churn, a disk writer with fsync. */
export function stressMatrix(): Array<{ name: string; stressors: Stressor[]; daemonWorstCase?: boolean }> {
  const n = cpus().length;
  return [
    { name: "idle", stressors: [] },
    { name: `cpu x${n}`, stressors: [new Processes(`${n} busy loops`, () => busy(n))] },
    { name: `cpu x${2 * n}`, stressors: [new Processes(`${2 * n} busy loops`, () => busy(2 * n))] },
    { name: "memory churn", stressors: [new Processes("stress-ng --vm", () => [["stress-ng", ["--vm", "2", "--vm-bytes", "1G", "--vm-method", "all", "--quiet"]]])] },
    { name: "disk fsync", stressors: [new Processes("stress-ng --hdd fsync", (dir) => [["stress-ng", ["--hdd", "1", "--hdd-opts", "fsync", "--hdd-bytes", "256M", "--temp-path", dir, "--quiet"]]])] },
    { name: "daemon worst case", stressors: [], daemonWorstCase: true },
    {
      name: "all at once",
      daemonWorstCase: true,
      stressors: [
        new Processes(`${2 * n} busy loops`, () => busy(2 * n)),
        new Processes("stress-ng --vm + --hdd", (dir) => [["stress-ng", ["--vm", "1", "--vm-bytes", "1G", "--hdd", "1", "--hdd-opts", "fsync", "--hdd-bytes", "128M", "--temp-path", dir, "--quiet"]]]),
      ],
    },
  ];
}
