import { loadConfig } from "../config/load.js";
import { recordsFile } from "../records/sqlite-options.js";
import { defectsSince, openRecords, type DefectRow } from "../records/queries.js";
import { EdgeError } from "../util/errors.js";
import { DEFAULT_CONFIG, parseCommand, sinceArg, usageError } from "./args.js";

export const DEFECTS_USAGE = `Usage: edge-inspect defects [--since 1h] [--class NAME] [--format table|csv|json] [--config FILE]

Lists rejected parts from the station's records database (records.type: sqlite),
oldest first: time, run and part, reason, classes with scores, model version
and snapshot file.

Options:
  -c, --config FILE   config file (default /etc/edge-inspect/config.yaml)
      --since D       how far back: 90s, 15m, 1h, 7d, or from a date or time (2024-05-01T08:00Z) (default 1h)
      --class NAME    only parts rejected for this class (or fail-safe reason, e.g. failsafe:late)
      --format F      table (default), csv or json
  -h, --help          this help
`;

/** The records database a config points at; refuses a config that keeps records in memory. */
export function recordsDatabase(configFile: string): string {
  const file = recordsFile(loadConfig(configFile));
  if (!file) throw usageError(`${configFile} keeps records in memory (records.type: memory): nothing to read`);
  return file;
}

export function cmdDefects(args: string[], out: NodeJS.WritableStream = process.stdout): number {
  const { values } = parseCommand(args, {
    config: { type: "string", short: "c" },
    since: { type: "string" },
    class: { type: "string" },
    format: { type: "string" },
  });
  if (values.help) {
    out.write(DEFECTS_USAGE);
    return 0;
  }
  const format = values.format ?? "table";
  if (!["table", "csv", "json"].includes(format)) throw usageError(`--format must be table, csv or json, got '${format}'`);
  const since = sinceArg(values.since ?? "1h");
  const db = openRecords(recordsDatabase(values.config ?? DEFAULT_CONFIG));
  try {
    const rows = defectsSince(db, since, values.class);
    out.write(format === "json" ? JSON.stringify(rows, null, 2) + "\n" : format === "csv" ? csv(rows) : table(rows));
  } finally {
    db.close();
  }
  return 0;
}

const COLUMNS: Array<keyof DefectRow> = ["time", "run", "part", "reason", "classes", "scores", "model_version", "snapshot"];

function csv(rows: DefectRow[]): string {
  const cell = (v: unknown) => {
    const s = v === null || v === undefined ? "" : String(v);
    return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  return [COLUMNS.join(","), ...rows.map((r) => COLUMNS.map((c) => cell(r[c])).join(","))].join("\n") + "\n";
}

function table(rows: DefectRow[]): string {
  if (rows.length === 0) return "no rejected parts in that time\n";
  const cells = rows.map((r) => COLUMNS.map((c) => String(r[c] ?? "-")));
  const widths = COLUMNS.map((c, i) => Math.max(c.length, ...cells.map((r) => r[i]!.length)));
  const line = (vals: string[]) => vals.map((v, i) => v.padEnd(widths[i]!)).join("  ").trimEnd();
  return [line(COLUMNS), ...cells.map(line), `${rows.length} rejected part(s)`].join("\n") + "\n";
}
