import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { EdgeError } from "../../util/errors.js";
import { freePort } from "../../util/free-port.js";
import type { Logger } from "../../util/log.js";
import { BROKER_HOST, type EmbeddedBroker } from "./embedded-broker.js";

const START_TIMEOUT_MS = 10_000;

/** The system's Mosquitto as a child process, listening on loopback only, its config in the data dir. */
export class MosquittoBroker implements EmbeddedBroker {
  readonly kind = "mosquitto";

  private constructor(
    readonly port: number,
    private readonly child: ChildProcess,
  ) {}

  static async start(executable: string, port: number, dir: string, log: Logger): Promise<MosquittoBroker> {
    const listen = port === 0 ? await freePort(BROKER_HOST) : port;
    const confDir = join(dir, "broker");
    mkdirSync(confDir, { recursive: true });
    const conf = join(confDir, "mosquitto.conf");
    // Loopback only and anonymous: a demo broker, never the plant's.
    writeFileSync(conf, [`listener ${listen} ${BROKER_HOST}`, "allow_anonymous true", "log_dest stderr", "log_type error", "log_type warning", ""].join("\n"));
    const child = spawn(executable, ["-c", conf], { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr!.on("data", (d: Buffer) => {
      stderr += d.toString();
      log.debug({ broker: "mosquitto" }, d.toString().trim());
    });
    let exited = false;
    child.once("exit", () => (exited = true));
    // The broker must not outlive the station.
    const kill = () => child.kill("SIGTERM");
    process.once("exit", kill);
    const until = Date.now() + START_TIMEOUT_MS;
    while (!(await accepts(listen))) {
      if (exited || Date.now() > until) {
        child.kill("SIGKILL");
        throw new EdgeError("E_BROKER_START", `mosquitto did not start on ${BROKER_HOST}:${listen}: ${stderr.trim() || "no output"}`);
      }
      await new Promise((r) => setTimeout(r, 25));
    }
    return new MosquittoBroker(listen, child);
  }

  async close(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((r) => this.child.once("exit", r));
    this.child.kill("SIGTERM");
    await Promise.race([exited, new Promise((r) => setTimeout(r, 2000).unref())]);
  }
}


function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const c = connect(port, BROKER_HOST);
    c.once("connect", () => {
      c.destroy();
      resolve(true);
    });
    c.once("error", () => resolve(false));
  });
}
