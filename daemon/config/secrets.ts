import { join } from "node:path";
import { describeRefusal, readBounded, ReadRefused } from "../util/bounded-read.js";
import type { ConfigProblem } from "./load.js";
import type { Config } from "./schema.js";

/** A password or token, or a certificate at most. */
const MAX_SECRET_BYTES = 64 * 1024;

/** Where each secret reference lives in the config; resolved in place. */
const SECRET_PATHS: ReadonlyArray<readonly string[]> = [["publish", "password"]];

/**
 * Replaces `file:/path`, `credential:NAME` and `env:VAR` references with the
 * secret itself, so secrets never sit in the YAML file. A missing secret is a
 * config problem, reported like any other.
 */
export function resolveSecrets(config: Config, env: NodeJS.ProcessEnv): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  for (const path of SECRET_PATHS) {
    const parent = path.slice(0, -1).reduce<Record<string, unknown> | undefined>(
      (o, k) => (o?.[k] as Record<string, unknown> | undefined),
      config as unknown as Record<string, unknown>,
    );
    const key = path[path.length - 1]!;
    const ref = parent?.[key];
    if (typeof ref !== "string") continue;
    const result = readSecret(ref, env);
    if ("error" in result) problems.push({ path: path.join("."), message: result.error });
    else parent![key] = result.value;
  }
  return problems;
}

export function readSecret(ref: string, env: NodeJS.ProcessEnv): { value: string } | { error: string } {
  const colon = ref.indexOf(":");
  const kind = ref.slice(0, colon);
  const arg = ref.slice(colon + 1);
  if (kind === "env") {
    const v = env[arg];
    return v === undefined || v === "" ? { error: `environment variable ${arg} is not set` } : { value: v };
  }
  let file = arg;
  if (kind === "credential") {
    const dir = env.CREDENTIALS_DIRECTORY;
    if (!dir) return { error: `credential '${arg}' requested but $CREDENTIALS_DIRECTORY is not set (systemd LoadCredential=)` };
    file = join(dir, arg);
  }
  let data: Buffer;
  try {
    data = readBounded(file, { maxBytes: MAX_SECRET_BYTES });
  } catch (err) {
    if (!(err instanceof ReadRefused)) throw err;
    return { error: `cannot read secret file ${file}: ${describeRefusal(err.refusal)}` };
  }
  // A trailing newline is an artefact of `echo secret > file`, never part of the secret.
  const v = data.toString("utf8").replace(/\r?\n$/, "");
  return v === "" ? { error: `secret file ${file} is empty` } : { value: v };
}
