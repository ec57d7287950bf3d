import { THREADS } from "../threads/crash-policy.js";
import { ThreadHost } from "../threads/thread-host.js";
import { EdgeError } from "../util/errors.js";
import type { Logger } from "../util/log.js";
import type { SettledPart } from "../pipeline/part.js";
import { inspectionRow, type InspectionRow } from "./inspection-row.js";
import type { Review } from "./review.js";
import { SqliteReview } from "./sqlite-review.js";
import type { OutboxEntry, OutboxMessage, Store, StoreStats } from "./store.js";
import type { Alarm } from "../util/alarm.js";
import type { WriterOptions, WriterStatus, WriterThread } from "./writer-protocol.js";

export interface SqliteStoreOptions extends WriterOptions {
  batchMs: number;
}

/** Opening and migrating a database on a slow card: longer than this, the disk or card hangs. */
const OPEN_TIMEOUT_MS = 30_000;

/**
 * The durable store: SQLite in WAL mode, written by a worker thread that owns
 * the only write connection (sqlite-writer.ts). This side only queues rows and
 * posts them in batches, so record() costs a push and the line never waits
 * on the disk, not even on a full or failing one.
 */
export class SqliteStore implements Store {
  readonly kind = "sqlite";
  runId = "";
  private thread: ThreadHost<WriterThread> | undefined;
  private queue: InspectionRow[] = [];
  private timer: NodeJS.Timeout | undefined;
  private status: WriterStatus = { committed: 0, pending: 0, outbox: 0, writeErrors: 0, dropped: 0, outboxDropped: 0 };
  private readonly outboxListeners: Array<() => void> = [];
  private readonly alarmListeners: Array<(a: Alarm) => void> = [];
  private closing = false;

  constructor(
    private readonly options: SqliteStoreOptions,
    private readonly log: Logger,
  ) {}

  async open(): Promise<void> {
    const { batchMs: _batchMs, ...writer } = this.options;
    const thread = new ThreadHost<WriterThread>(
      {
        name: "writer",
        declaration: THREADS.writer,
        url: new URL("./sqlite-writer.js", import.meta.url),
        workerData: writer,
        startTimeoutMs: OPEN_TIMEOUT_MS,
        // A write the database refused (disk full, locked): the request fails, nothing is half-kept.
        replyCode: () => "E_STORE_WRITE",
        onEvent: (m) => this.onEvent(m),
        onDown: (err) => this.onWriterLost(err),
      },
      this.log,
    );
    try {
      const opened = await thread.start();
      this.thread = thread;
      this.runId = opened.runId;
      this.status = opened.status;
      if (opened.status.outbox > 0) this.announce();
    } catch (err) {
      const e = err as EdgeError;
      throw new EdgeError(e.code, `cannot open ${this.options.path}: ${e.message}`, { cause: err });
    }
  }

  record(part: SettledPart, outbox: OutboxMessage[], snapshot?: Uint8Array): void {
    this.queue.push(inspectionRow(part, outbox, snapshot));
    this.timer ??= setTimeout(() => this.post(), this.options.batchMs);
  }

  async flush(): Promise<void> {
    this.post();
    await this.ask("flush", null);
  }

  /** Runs the retention pass now instead of waiting for its interval. */
  async prune(): Promise<void> {
    await this.ask("retention", null);
  }

  async outboxPeek(limit: number, afterSeq: number): Promise<OutboxEntry[]> {
    return (await this.ask("peek", { limit, afterSeq })) ?? [];
  }

  outboxDelete(seqs: number[]): void {
    this.note({ type: "delete", seqs });
  }

  /** Keeps an alarm raised elsewhere in the alarms table (written with the next batch). */
  recordAlarm(alarm: Alarm): void {
    this.note({ type: "alarm", alarm });
  }

  /** The review's read-only connection; its operator writes go to the writer thread. */
  review(): Review {
    return new SqliteReview(this.options.path, this.options.snapshotDir, {
      setVerdict: (id, verdict, operator) => this.operatorWrite("verdict", { id, verdict, operator }),
      ackAlarm: (id, operator) => this.operatorWrite("ack", { id, operator }),
    });
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
    const thread = this.thread;
    if (!thread || this.closing) return;
    this.post();
    this.closing = true;
    await this.ask("close", null);
    await thread.stop();
    const lost = this.status.pending;
    if (lost > 0) this.log.error({ lost }, `${lost} inspections could not be written before close`);
  }

  private post(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.queue.length === 0) return;
    const rows = this.queue;
    this.queue = [];
    // The writer is gone (its alarm is raised): these rows are given up, and counted.
    if (!this.closing && !this.thread?.running()) this.status = { ...this.status, dropped: this.status.dropped + rows.length };
    else this.note({ type: "write", rows });
  }

  private note(m: WriterThread["notes"]): void {
    if (!this.closing) this.thread?.note(m);
  }

  /**
   * A request to the writer; undefined once the writer is gone (its alarm
   * says so): a flush then resolves with the rows still counted as pending.
   */
  private async ask<K extends keyof WriterThread["requests"]>(name: K, body: WriterThread["requests"][K]["in"]): Promise<WriterThread["requests"][K]["out"] | undefined> {
    const thread = this.thread;
    if (!thread?.running() || (this.closing && name !== "close")) return undefined;
    try {
      return await thread.request(name, body);
    } catch (err) {
      if ((err as EdgeError).code === "E_STORE_WORKER") return undefined;
      throw err;
    }
  }

  /** Refused (E_STORE_WRITE, E_STORE_WORKER) when the writer cannot commit it: an operator is never told it was kept when it was not. */
  private operatorWrite<K extends "verdict" | "ack">(name: K, body: WriterThread["requests"][K]["in"]): Promise<WriterThread["requests"][K]["out"]> {
    if (!this.thread || this.closing) return Promise.reject(new EdgeError("E_STORE_WORKER", "the records writer is not running"));
    return this.thread.request(name, body);
  }

  private onEvent(m: WriterThread["events"]): void {
    switch (m.type) {
      case "status":
        this.status = m.status;
        if (m.outboxAdded) this.announce();
        break;
      case "alarm":
        this.log[m.alarm.active ? "error" : "info"]({ code: m.alarm.code }, `alarm ${m.alarm.active ? "raised" : "cleared"}: ${m.alarm.message}`);
        for (const l of this.alarmListeners) l(m.alarm);
        break;
    }
  }

  private announce(): void {
    for (const l of this.outboxListeners) l();
  }

  private onWriterLost(err: EdgeError): void {
    const alarm: Alarm = { code: "E_STORE_WORKER", message: `${err.message}; records are no longer written`, active: true, timeMs: Date.now() };
    for (const l of this.alarmListeners) l(alarm);
  }
}
