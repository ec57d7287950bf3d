import { isAbsolute, join } from "node:path";
import type { Config } from "../config/schema.js";
import type { SqliteStoreOptions } from "./sqlite-store.js";

type SqliteConfig = Extract<Config["records"], { type: "sqlite" }>;

const MB = 1024 * 1024;

/** Relative paths in `records` are under data_dir. */
export function sqliteStoreOptions(dataDir: string, r: SqliteConfig): SqliteStoreOptions {
  const under = (p: string) => (isAbsolute(p) ? p : join(dataDir, p));
  return {
    path: under(r.file),
    snapshotDir: under(r.snapshot_dir),
    batchMs: r.batch_ms,
    busyTimeoutMs: r.busy_timeout_ms,
    journalSizeLimitBytes: r.journal_size_limit_mb * MB,
    maxPendingRows: r.max_pending_rows,
    outboxMaxRows: r.outbox_max_rows,
    retryMs: r.retry_ms,
    retention: {
      maxAgeDays: r.retention.max_age_days,
      maxDbBytes: r.retention.max_db_mb * MB,
      maxSnapshotBytes: r.retention.max_snapshot_mb * MB,
      checkMs: r.retention.check_s * 1000,
    },
  };
}

/** The database file a config points at, for the operator CLI. */
export function recordsFile(config: Config): string | undefined {
  return config.records.type === "sqlite" ? sqliteStoreOptions(config.data_dir, config.records).path : undefined;
}
