import { openRecords, statsSince, type StationStats } from "../records/queries.js";
import { recordsDatabase } from "./defects.js";
import { DEFAULT_CONFIG, parseCommand, sinceArg } from "./args.js";

export const STATS_USAGE = `Usage: edge-inspect stats [--since 24h] [--json] [--config FILE]

Summarises the station's records database: parts, accepted, rejected, reject
rate by class, fail-safe counts by reason, judgement latency percentiles.

Options:
  -c, --config FILE   config file (default /etc/edge-inspect/config.yaml)
      --since D       how far back: 90s, 15m, 1h, 7d, or from a date or time (2024-05-01T08:00Z) (default 24h)
      --json          print JSON instead of text
  -h, --help          this help
`;

export function cmdStats(args: string[], out: NodeJS.WritableStream = process.stdout): number {
  const { values } = parseCommand(args, {
    config: { type: "string", short: "c" },
    since: { type: "string" },
    json: { type: "boolean" },
  });
  if (values.help) {
    out.write(STATS_USAGE);
    return 0;
  }
  const since = sinceArg(values.since ?? "24h");
  const db = openRecords(recordsDatabase(values.config ?? DEFAULT_CONFIG));
  try {
    const s = statsSince(db, since);
    out.write(values.json ? JSON.stringify(s, null, 2) + "\n" : text(s));
  } finally {
    db.close();
  }
  return 0;
}

function ms(v: number | null): string {
  return v === null ? "-" : `${v.toFixed(2)} ms`;
}

function text(s: StationStats): string {
  const pct = (n: number) => `${(100 * n).toFixed(2)}%`;
  const share = (n: number) => (s.parts === 0 ? "" : ` (${pct(n / s.parts)})`);
  const lines = [
    `since ${s.since}`,
    `parts     ${s.parts}`,
    `accepted  ${s.accepted}`,
    `rejected  ${s.rejected} (${pct(s.reject_rate)})`,
    ...Object.entries(s.rejected_by_reason).map(([k, n]) => `  ${k.padEnd(20)} ${n}${share(n)}`),
    `fail-safe ${Object.values(s.failsafe).reduce((a, b) => a + b, 0)}`,
    ...Object.entries(s.failsafe).map(([k, n]) => `  ${k.padEnd(20)} ${n}`),
    `latency   p50 ${ms(s.latency_ms.p50)}, p95 ${ms(s.latency_ms.p95)}, p99 ${ms(s.latency_ms.p99)}, max ${ms(s.latency_ms.max)}`,
    `alarms    ${s.alarms}`,
  ];
  return lines.join("\n") + "\n";
}
