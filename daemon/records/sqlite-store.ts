import { Worker } from "node:worker_threads";
import { EdgeError, stationCode } from "../util/errors.js";
import type { Logger } from "../util/log.js";
import type { SettledPart } from "../pipeline/part.js";
import { inspectionRow, type InspectionRow } from "./inspection-row.js";
import type { Alarm, OutboxEntry, OutboxMessage, Store, StoreStats } from "./store.js";
import type { FromWriter, ToWriter, WriterOptions, WriterStatus } from "./writer-protocol.js";

export interface SqliteStoreOptions extends WriterOptions {
  batchMs: number;
}

/**
 * The durable store: SQLite in WAL mode, written by a worker thread that owns
 * the only write connection (sqlite-writer.ts). This side only queues rows and
 * posts them in batches, so record() costs a push and the line never waits
 * on the disk, not even on a full or failing one.
 */
export class SqliteStore implements Store {
  readonly kind = "sqlite";
  runId = "";
  private worker: Worker | undefined;
  private queue: InspectionRow[] = [];
  private timer: NodeJS.Timeout | undefined;
  private nextId = 1;
  private readonly waiting = new Map<number, (value: OutboxEntry[] | undefined) => void>();
  private status: WriterStatus = { committed: 0, pending: 0, outbox: 0, writeErrors: 0, dropped: 0, outboxDropped: 0 };
  private readonly outboxListeners: Array<() => void> = [];
  private readonly alarmListeners: Array<(a: Alarm) => void> = [];
  private closing = false;

  constructor(
    private readonly options: SqliteStoreOptions,
    private readonly log: Logger,
  ) {}

  open(): Promise<void> {
    const { batchMs: _batchMs, ...writer } = this.options;
    const worker = new Worker(new URL("./sqlite-writer.js", import.meta.url), { workerData: writer });
    this.worker = worker;
    return new Promise((resolve, reject) => {
      let opened = false;
      worker.on("message", (m: FromWriter) => {
        if (m.t === "opened") {
          opened = true;
          this.runId = m.runId;
          this.status = m.status;
          resolve();
          if (m.status.outbox > 0) this.announce();
        } else if (m.t === "open-failed") {
          reject(new EdgeError(stationCode(m, "E_STORE_OPEN"), `cannot open ${this.options.path}: ${m.message}`));
          void worker.terminate();
        } else this.onMessage(m);
      });
      worker.on("error", (err) => {
        if (!opened) reject(new EdgeError("E_STORE_OPEN", `store writer failed to start: ${err.message}`, { cause: err }));
        else this.onWorkerLost(err);
      });
      worker.on("exit", (code) => {
        if (opened && !this.closing) this.onWorkerLost(new Error(`exited with code ${code}`));
      });
    });
  }

  record(part: SettledPart, outbox: OutboxMessage[], snapshot?: Uint8Array): void {
    this.queue.push(inspectionRow(part, outbox, snapshot));
    this.timer ??= setTimeout(() => this.post(), this.options.batchMs);
  }

  async flush(): Promise<void> {
    this.post();
    await this.request((id) => ({ t: "flush", id }));
  }

  /** Runs the retention pass now instead of waiting for its interval. */
  async prune(): Promise<void> {
    await this.request((id) => ({ t: "retention", id }));
  }

  async outboxPeek(limit: number, afterSeq: number): Promise<OutboxEntry[]> {
    return (await this.request((id) => ({ t: "peek", id, limit, afterSeq }))) ?? [];
  }

  outboxDelete(seqs: number[]): void {
    this.send({ t: "delete", seqs });
  }

  /** Keeps an alarm raised elsewhere in the alarms table (written with the next batch). */
  recordAlarm(alarm: Alarm): void {
    this.send({ t: "alarm", alarm });
  }

  onOutbox(listener: () => void): void {
    this.outboxListeners.push(listener);
  }

  onAlarm(listener: (alarm: Alarm) => void): void {
    this.alarmListeners.push(listener);
  }

  stats(): StoreStats {
    const s = this.status;
    return {
      recorded: s.committed,
      pendingWrites: this.queue.length + s.pending,
      outbox: s.outbox,
      writeErrors: s.writeErrors,
      dropped: s.dropped,
      outboxDropped: s.outboxDropped,
    };
  }

  async close(): Promise<void> {
    if (!this.worker || this.closing) return;
    this.post();
    this.closing = true;
    await this.request((id) => ({ t: "close", id }));
    await this.worker.terminate();
    const lost = this.status.pending;
    if (lost > 0) this.log.error({ lost }, `${lost} inspections could not be written before close`);
  }

  private post(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.queue.length === 0) return;
    const rows = this.queue;
    this.queue = [];
    this.send({ t: "write", rows });
  }

  private send(m: ToWriter): void {
    if (this.closing || !this.worker) return;
    this.worker.postMessage(m);
  }

  private request(make: (id: number) => ToWriter): Promise<OutboxEntry[] | undefined> {
    if (!this.worker || (this.closing && make(0).t !== "close")) return Promise.resolve(undefined);
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.waiting.set(id, resolve);
      this.worker!.postMessage(make(id));
    });
  }

  private onMessage(m: FromWriter): void {
    switch (m.t) {
      case "status":
        this.status = m.status;
        if (m.outboxAdded) this.announce();
        break;
      case "alarm":
        this.log[m.alarm.active ? "error" : "info"]({ code: m.alarm.code }, `alarm ${m.alarm.active ? "raised" : "cleared"}: ${m.alarm.message}`);
        for (const l of this.alarmListeners) l(m.alarm);
        break;
      case "peeked":
        this.settle(m.id, m.entries);
        break;
      case "done":
        this.settle(m.id, undefined);
        break;
    }
  }

  private settle(id: number, value: OutboxEntry[] | undefined): void {
    const resolve = this.waiting.get(id);
    this.waiting.delete(id);
    resolve?.(value);
  }

  private announce(): void {
    for (const l of this.outboxListeners) l();
  }

  private onWorkerLost(err: Error): void {
    const alarm: Alarm = { code: "E_STORE_WORKER", message: `store writer thread died: ${err.message}; records are no longer written`, active: true, timeMs: Date.now() };
    this.log.fatal({ err }, alarm.message);
    for (const [id] of this.waiting) this.settle(id, undefined);
    this.worker = undefined;
    for (const l of this.alarmListeners) l(alarm);
  }
}
