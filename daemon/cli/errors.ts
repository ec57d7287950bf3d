import { ERROR_CODE_FAMILIES, ERROR_CODES } from "../util/error-codes.js";
import { parseCommand, usageError } from "./args.js";

export const ERRORS_USAGE = `Usage: edge-inspect errors [CODE] [--markdown]

What an error code in a log line, an MQTT reply or an alarm means: every
code, or the one given (E_CMD_RATE, or a family such as E_MQTT_CONNACK_135).

Options:
      --markdown   print the table docs/errors.md holds
  -h, --help       this help
`;

/** The whole list as docs/errors.md holds it. */
export function errorsMarkdown(): string {
  const rows = [
    ...Object.entries(ERROR_CODES).map(([code, meaning]) => `| \`${code}\` | ${meaning} |`),
    ...Object.entries(ERROR_CODE_FAMILIES).map(([prefix, meaning]) => `| \`${prefix}<n>\` | ${meaning} |`),
  ];
  return `# Error codes

Every code the station reports in logs (\`code\`), MQTT command replies
(\`error.code\`), alarms and command-line messages, with its meaning. Codes
are stable: match on them, not on messages. On a station,
\`edge-inspect errors CODE\` prints one. Written by \`edge-inspect errors
--markdown\` from \`daemon/util/error-codes.ts\`; a test keeps them equal.

| code | meaning |
| --- | --- |
${rows.join("\n")}
`;
}

export function cmdErrors(args: string[], out: NodeJS.WritableStream = process.stdout): number {
  const { values, positionals } = parseCommand(args, { markdown: { type: "boolean" } }, true);
  if (values.help) {
    out.write(ERRORS_USAGE);
    return 0;
  }
  if (values.markdown) {
    out.write(errorsMarkdown());
    return 0;
  }
  if (positionals.length > 1) throw usageError("errors takes at most one code");
  const want = positionals[0];
  const all: Array<[string, string]> = [...Object.entries(ERROR_CODES), ...Object.entries(ERROR_CODE_FAMILIES).map(([p, m]): [string, string] => [`${p}<n>`, m])];
  if (want === undefined) {
    const width = Math.max(...all.map(([c]) => c.length));
    for (const [code, meaning] of all) out.write(`${code.padEnd(width)}  ${meaning}\n`);
    return 0;
  }
  const code = want.toUpperCase();
  const meaning = (ERROR_CODES as Record<string, string>)[code] ?? Object.entries(ERROR_CODE_FAMILIES).find(([p]) => code.startsWith(p) && /^\d+$/.test(code.slice(p.length)))?.[1];
  if (meaning === undefined) throw usageError(`'${want.slice(0, 64)}' is not an edge-inspect error code (edge-inspect errors lists them)`);
  out.write(`${code}: ${meaning}\n`);
  return 0;
}
