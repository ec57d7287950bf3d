import { execFileSync, spawn } from "node:child_process";
import { constants, existsSync, mkdirSync, openSync, readFileSync, readSync, readlinkSync, renameSync, rmSync, writeFileSync, closeSync } from "node:fs";
import { nowMs } from "../../daemon/util/clock.js";
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";

/**
 * A fake sysfs GPIO tree for running the real onoff code: a tmpfs over
 * /sys/class/gpio inside a private mount namespace (nothing on the host
 * changes), `export` and `unexport` as FIFOs, and an emulator thread that
 * creates `gpioN/{direction,value,edge,active_low}` when N is exported and
 * removes it on unexport. onoff writes export and then spins opening
 * `gpioN/value`, so the emulator must answer from another thread.
 *
 * tmpfs files are plain files: the emulator cannot react to a write the way
 * the kernel does (`value` holds the logical level as written, `direction`
 * holds "high"/"low" rather than applying it), and epoll on them fails, so
 * input edges cannot be shown here.
 */

export const SYSFS_GPIO = "/sys/class/gpio";
const NS_ENV = "FAKE_SYSFS_PARENT_MNT_NS";
const POLL_MS = 0.5;

export interface LineFiles {
  direction: string;
  value: string;
  edge: string;
  activeLow: string;
}

/** A change of a `value` file as the emulator's sampler saw it; tMs on the monotonic clock (util/clock nowMs), which every process shares. */
export interface ValueChange {
  pin: number;
  value: string;
  tMs: number;
}

type FromEmulator = { t: "exported"; pin: number } | { t: "unexported"; pin: number; files: LineFiles } | { t: "value"; change: ValueChange };

export interface NamespaceRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Why this process cannot make a private mount namespace, or undefined when it can. */
export function unshareUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return "needs root for a private mount namespace (unshare -m)";
  try {
    execFileSync("unshare", ["-m", "true"], { stdio: "ignore" });
    return undefined;
  } catch (err) {
    return `unshare -m failed: ${(err as Error).message}`;
  }
}

/** Runs a compiled script under `unshare -m`; the script calls FakeSysfsGpio.mount(). */
export function runInMountNamespace(script: string, args: string[], timeoutMs = 60_000): Promise<NamespaceRun> {
  const child = spawn("unshare", ["-m", "--propagation", "private", process.execPath, script, ...args], {
    env: { ...process.env, [NS_ENV]: readlinkSync("/proc/self/ns/mnt") },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  return new Promise((resolve) =>
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    }),
  );
}

export class FakeSysfsGpio {
  readonly exported: number[] = [];
  /** Each line's files as they were when it was unexported. */
  readonly unexported = new Map<number, LineFiles>();
  readonly changes: ValueChange[] = [];
  private readonly stop = new Int32Array(new SharedArrayBuffer(4));

  private constructor(private readonly worker: Worker) {
    worker.on("message", (m: FromEmulator) => {
      if (m.t === "exported") this.exported.push(m.pin);
      else if (m.t === "unexported") this.unexported.set(m.pin, m.files);
      else this.changes.push(m.change);
    });
  }

  /**
   * Mounts the tree and starts the emulator. Refuses unless this process is
   * in a mount namespace of its own (started by runInMountNamespace), so the
   * host's sysfs is never covered.
   */
  static async mount(): Promise<FakeSysfsGpio> {
    const parent = process.env[NS_ENV];
    if (!parent || parent === readlinkSync("/proc/self/ns/mnt")) throw new Error("fake sysfs gpio: not in a private mount namespace (use runInMountNamespace)");
    if (existsSync(SYSFS_GPIO)) execFileSync("mount", ["-t", "tmpfs", "fake-gpio", SYSFS_GPIO]);
    else {
      // No sysfs GPIO on this kernel: a tmpfs over /sys/class (in this namespace only) gives the directory a place.
      execFileSync("mount", ["-t", "tmpfs", "fake-class", "/sys/class"]);
      mkdirSync(SYSFS_GPIO);
    }
    for (const f of ["export", "unexport"]) execFileSync("mkfifo", [`${SYSFS_GPIO}/${f}`]);
    const fake = new FakeSysfsGpio(new Worker(new URL(import.meta.url), { workerData: { fakeSysfsEmulator: true } }));
    fake.worker.postMessage(fake.stop);
    await new Promise<void>((r) => fake.worker.once("online", () => r()));
    return fake;
  }

  /** A line's files now, or undefined when it is not exported. */
  line(pin: number): LineFiles | undefined {
    return existsSync(`${SYSFS_GPIO}/gpio${pin}`) ? readLine(pin) : undefined;
  }

  /** Lets the sampler log the last changes, then stops the emulator. */
  async close(): Promise<void> {
    await new Promise((r) => setTimeout(r, 20));
    Atomics.store(this.stop, 0, 1);
    await new Promise<void>((r) => this.worker.once("exit", () => r()));
  }
}

function readLine(pin: number): LineFiles {
  const f = (name: string) => readFileSync(`${SYSFS_GPIO}/gpio${pin}/${name}`, "utf8").trim();
  return { direction: f("direction"), value: f("value"), edge: f("edge"), activeLow: f("active_low") };
}

/** The emulator thread: answers export/unexport and samples every exported `value` file. */
function emulate(stop: Int32Array): void {
  const port = parentPort!;
  // O_RDWR keeps a writer open, so reads never see end-of-file; O_NONBLOCK lets one thread poll both.
  const open = (name: string) => openSync(`${SYSFS_GPIO}/${name}`, constants.O_RDWR | constants.O_NONBLOCK);
  const exportFd = open("export");
  const unexportFd = open("unexport");
  const last = new Map<number, string>();
  const buf = Buffer.alloc(256);
  const drain = (fd: number): string => {
    let text = "";
    for (;;) {
      try {
        const n = readSync(fd, buf, 0, buf.length, null);
        if (n === 0) return text;
        text += buf.toString("utf8", 0, n);
      } catch {
        return text; // EAGAIN: nothing more written
      }
    }
  };
  const exportLine = (pin: number) => {
    if (last.has(pin)) return;
    // Built aside and renamed in: onoff never sees a half-made directory.
    const staging = `${SYSFS_GPIO}/.gpio${pin}`;
    mkdirSync(staging);
    for (const [name, text] of [["direction", "in"], ["value", "0"], ["edge", "none"], ["active_low", "0"]]) writeFileSync(`${staging}/${name}`, `${text}\n`);
    renameSync(staging, `${SYSFS_GPIO}/gpio${pin}`);
    last.set(pin, "0");
    port.postMessage({ t: "exported", pin } satisfies FromEmulator);
  };
  const unexportLine = (pin: number) => {
    if (!last.has(pin)) return;
    sample(pin);
    port.postMessage({ t: "unexported", pin, files: readLine(pin) } satisfies FromEmulator);
    rmSync(`${SYSFS_GPIO}/gpio${pin}`, { recursive: true });
    last.delete(pin);
  };
  const sample = (pin: number) => {
    const value = readFileSync(`${SYSFS_GPIO}/gpio${pin}/value`, "utf8").trim();
    if (value === last.get(pin)) return;
    last.set(pin, value);
    port.postMessage({ t: "value", change: { pin, value, tMs: nowMs() } } satisfies FromEmulator);
  };
  while (Atomics.load(stop, 0) === 0) {
    const exports = drain(exportFd);
    // onoff waits for each export to appear, so export writes never run together.
    if (exports) exportLine(Number(exports.trim()));
    const unexports = drain(unexportFd);
    if (unexports) for (const pin of splitPins(unexports.trim(), [...last.keys()])) unexportLine(pin);
    for (const pin of last.keys()) sample(pin);
    Atomics.wait(stop, 0, 0, POLL_MS);
  }
  closeSync(exportFd);
  closeSync(unexportFd);
}

/**
 * Unexports written in a quick row arrive in the FIFO as one run of digits
 * ("1718"); the kernel would have seen separate writes. Splits the run into
 * exported pins, longest match first.
 */
function splitPins(text: string, known: number[]): number[] {
  if (text === "") return [];
  const names = known.map(String).sort((a, b) => b.length - a.length);
  for (const n of names) {
    if (!text.startsWith(n)) continue;
    const rest = splitPins(text.slice(n.length), known.filter((k) => String(k) !== n));
    if (rest.length > 0 || text === n) return [Number(n), ...rest];
  }
  return [];
}

if (!isMainThread && (workerData as { fakeSysfsEmulator?: boolean } | undefined)?.fakeSysfsEmulator) {
  parentPort!.once("message", (stop: Int32Array) => emulate(stop));
}
