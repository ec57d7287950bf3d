import { createRequire } from "node:module";

/**
 * sd_notify(3) without libsystemd. Node's dgram module has no AF_UNIX
 * datagram sockets, so this uses the small `unix-dgram` binding: the
 * message then comes from the daemon's own PID, which NotifyAccess=main
 * accepts. Spawning `systemd-notify` instead would need NotifyAccess=all and
 * races systemd's PID lookup when the helper exits before its message is read.
 * A no-op when NOTIFY_SOCKET is unset (not under systemd).
 */
export class SdNotify {
  private readonly socket: UnixDgramSocket | undefined;
  private readonly path: string | undefined;
  lastError: string | undefined;

  constructor(env: NodeJS.ProcessEnv = process.env) {
    const path = env.NOTIFY_SOCKET;
    if (!path) return;
    if (path.startsWith("@")) {
      this.lastError = "abstract NOTIFY_SOCKET is not supported by the unix-dgram binding";
      return;
    }
    const require = createRequire(import.meta.url);
    const unix = require("unix-dgram") as { createSocket(type: "unix_dgram"): UnixDgramSocket };
    this.socket = unix.createSocket("unix_dgram");
    this.socket.on("error", (err: Error) => {
      this.lastError = err.message;
    });
    this.path = path;
  }

  get enabled(): boolean {
    return this.socket !== undefined;
  }

  send(state: string): void {
    if (!this.socket || !this.path) return;
    const buf = Buffer.from(state);
    this.socket.send(buf, 0, buf.length, this.path);
  }

  ready(status: string): void {
    this.send(`READY=1\nSTATUS=${status}`);
  }

  stopping(): void {
    this.send("STOPPING=1");
  }

  watchdog(): void {
    this.send("WATCHDOG=1");
  }

  status(text: string): void {
    this.send(`STATUS=${text}`);
  }

  close(): void {
    this.socket?.close();
  }
}

interface UnixDgramSocket {
  send(buf: Buffer, offset: number, length: number, path: string, cb?: (err?: Error) => void): void;
  on(event: "error", listener: (err: Error) => void): void;
  close(): void;
}
