import { spawn, execFileSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { freePort } from "../../daemon/util/free-port.js";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface MosquittoOptions {
  /** TLS listener with a CA, server and client certificates generated for this broker. */
  tls?: boolean;
  /** username → password; when given, anonymous clients are refused. */
  users?: Record<string, string>;
  /** Keep sessions and queued messages on disk (autosaved every second) across restarts. */
  persistence?: boolean;
  /** More mosquitto.conf lines (an acl_file, a max_packet_size...). */
  conf?: string[];
}

export interface TlsFiles {
  ca: string;
  cert: string;
  key: string;
}

/**
 * A real Mosquitto on a free loopback port, with its own config in a temp
 * dir. It can be stopped, killed with SIGKILL and started again on the same
 * port, to exercise reconnection and the outbox.
 */
export class Mosquitto {
  private child: ChildProcess | undefined;
  readonly tlsFiles: TlsFiles | undefined;

  private constructor(
    readonly dir: string,
    readonly port: number,
    private readonly conf: string,
    tls: TlsFiles | undefined,
  ) {
    this.tlsFiles = tls;
  }

  static async start(o: MosquittoOptions = {}): Promise<Mosquitto> {
    const dir = mkdtempSync(join(tmpdir(), "edge-inspect-mosquitto-"));
    const port = await freePort();
    const lines = [
      // Run as root in tests: otherwise mosquitto drops to its own user and cannot read this temp dir.
      "user root",
      `listener ${port} 127.0.0.1`,
      "log_dest stderr",
      "log_type error",
      "max_queued_messages 0",
      "max_inflight_messages 100",
    ];
    let tls: TlsFiles | undefined;
    if (o.tls) {
      tls = makeCertificates(dir);
      lines.push(`cafile ${tls.ca}`, `certfile ${join(dir, "server.crt")}`, `keyfile ${join(dir, "server.key")}`, "require_certificate true");
    }
    if (o.users) {
      const file = join(dir, "passwd");
      writeFileSync(file, "");
      for (const [u, p] of Object.entries(o.users)) execFileSync("mosquitto_passwd", ["-b", file, u, p], { stdio: "ignore" });
      lines.push(`password_file ${file}`, "allow_anonymous false");
    } else {
      lines.push("allow_anonymous true");
    }
    if (o.persistence) lines.push("persistence true", `persistence_location ${dir}/`, "autosave_interval 1");
    lines.push(...(o.conf ?? []));
    const conf = join(dir, "mosquitto.conf");
    writeFileSync(conf, lines.join("\n") + "\n");
    const broker = new Mosquitto(dir, port, conf, tls);
    await broker.restart();
    return broker;
  }

  get url(): string {
    return `${this.tlsFiles ? "mqtts" : "mqtt"}://127.0.0.1:${this.port}`;
  }

  running(): boolean {
    return this.child !== undefined;
  }

  /** Starts the broker (again) on the same port with the same config, once it accepts connections. */
  async restart(): Promise<void> {
    if (this.child) return;
    const child = spawn("mosquitto", ["-c", this.conf], { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
    this.child = child;
    child.once("exit", () => {
      if (this.child === child) this.child = undefined;
    });
    const until = Date.now() + 10_000;
    while (!(await accepts(this.port))) {
      if (!this.child || Date.now() > until) throw new Error(`mosquitto did not start on port ${this.port}: ${stderr}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  /** Graceful stop (SIGTERM): mosquitto saves its persistence file. */
  stop(): Promise<void> {
    return this.signal("SIGTERM");
  }

  /** SIGSTOP: the broker stays connected but answers nothing, as behind a dead link. */
  freeze(): void {
    this.child?.kill("SIGSTOP");
  }

  /** SIGCONT after freeze(). */
  thaw(): void {
    this.child?.kill("SIGCONT");
  }

  /** SIGKILL: no goodbye, no save. */
  kill(): Promise<void> {
    return this.signal("SIGKILL");
  }

  async close(): Promise<void> {
    this.thaw();
    await this.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }

  private async signal(sig: NodeJS.Signals): Promise<void> {
    const child = this.child;
    if (!child) return;
    const exited = new Promise((r) => child.once("exit", r));
    child.kill(sig);
    await exited;
    this.child = undefined;
  }
}


function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const c = connect(port, "127.0.0.1");
    c.once("connect", () => {
      c.destroy();
      resolve(true);
    });
    c.once("error", () => resolve(false));
  });
}

/** A throwaway CA, a server certificate for 127.0.0.1 and a client certificate, made with openssl. */
function makeCertificates(dir: string): TlsFiles {
  const f = (n: string) => join(dir, n);
  const ssl = (...args: string[]) => execFileSync("openssl", args, { stdio: "ignore" });
  ssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=edge-inspect test CA", "-keyout", f("ca.key"), "-out", f("ca.crt"));
  for (const [name, cn, ext] of [
    ["server", "127.0.0.1", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
    ["client", "station1", "extendedKeyUsage=clientAuth"],
  ] as const) {
    ssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", `/CN=${cn}`, "-keyout", f(`${name}.key`), "-out", f(`${name}.csr`));
    writeFileSync(f(`${name}.ext`), `${ext}\n`);
    ssl("x509", "-req", "-in", f(`${name}.csr`), "-CA", f("ca.crt"), "-CAkey", f("ca.key"), "-CAcreateserial", "-days", "2", "-extfile", f(`${name}.ext`), "-out", f(`${name}.crt`));
  }
  return { ca: f("ca.crt"), cert: f("client.crt"), key: f("client.key") };
}
