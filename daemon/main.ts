#!/usr/bin/env node
import { readFileSync, writeFileSync } from "node:fs";
import type { App } from "./app.js";
import { ConfigError, loadConfig } from "./config/load.js";
import type { LineConfig } from "./config/schema.js";
import { createLogger, type Logger } from "./util/log.js";
import { errorCode, errorMessage } from "./util/errors.js";
import { formatSummary } from "./pipeline/run-stats.js";
import { threadCpu } from "./threads/thread-cpu.js";
import { EXIT, USAGE } from "./cli/usage.js";
import { DEFAULT_CONFIG, numberArg, parseCommand, usageError } from "./cli/args.js";

// Each command loads what it needs when it runs: check-config, errors or defects need
// neither the broker, the review server nor the model runtime (3-4 s of imports on a busy board).

const VERSION = (JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string }).version;

async function cmdRun(args: string[]): Promise<number> {
  const { values } = parseCommand(args, {
    config: { type: "string", short: "c" },
    "max-parts": { type: "string" },
    duration: { type: "string" },
    "summary-json": { type: "string" },
  });
  if (values.help) return help("run");
  const maxParts = numberArg("max-parts", values["max-parts"], (n) => Number.isSafeInteger(n) && n > 0, "a positive whole number");
  const duration = numberArg("duration", values.duration, (n) => n > 0, "a positive number of seconds");
  const configFile = values.config ?? DEFAULT_CONFIG;
  const config = loadConfig(configFile);
  const log = createLogger(config.log.level);
  const { App } = await import("./app.js");
  const app = new App(config, log);
  app.configSource = () => loadConfig(configFile);
  return runApp(app, log, { maxParts, duration, summaryJson: values["summary-json"] });
}

async function runApp(app: App, log: Logger, o: { maxParts?: number; duration?: number; summaryJson?: string }): Promise<number> {
  let signals = 0;
  let finish!: (why: string) => void;
  const done = new Promise<string>((r) => (finish = r));
  const onSignal = (sig: NodeJS.Signals) => {
    signals++;
    if (signals === 1) {
      log.info({ signal: sig }, `${sig}: stopping (send again to exit at once)`);
      finish(sig);
      return;
    }
    app.emergencySafe();
    log.warn({ signal: sig }, `${sig} again: outputs safe, exiting now`);
    process.exit(EXIT.SIGNAL_AGAIN);
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  // systemctl reload: re-read the file; a bad or restart-only change is refused whole.
  process.on("SIGHUP", () => {
    app.reloadFromSource().catch((err: unknown) => log.error({ code: errorCode(err) }, errorMessage(err)));
  });
  const crash = (err: unknown) => {
    app.emergencySafe();
    log.fatal({ err }, "uncaught error: outputs safe, exiting");
    process.exit(EXIT.FAILURE);
  };
  process.on("uncaughtException", crash);
  process.on("unhandledRejection", crash);

  try {
    await app.start();
    if (app.demoBroker?.port !== undefined) {
      const { watchHint } = await import("./publish/broker/embedded-broker.js");
      process.stdout.write(`${watchHint(app.demoBroker.port)}\n`);
    }
  } catch (err) {
    app.emergencySafe();
    log.fatal({ code: errorCode(err) }, errorMessage(err));
    await app.stop("start failed").catch(() => undefined);
    return EXIT.FAILURE;
  }
  if (o.maxParts !== undefined) {
    // Every line takes that many parts; the run ends when the last has.
    const n = o.maxParts;
    let reached = 0;
    for (const l of app.lines) {
      l.pipeline.maxParts = n;
      l.pipeline.onLimit(() => ++reached === app.lines.length && finish(`${n} parts${app.lines.length > 1 ? " on every line" : ""}`));
    }
  }
  if (o.duration !== undefined) setTimeout(() => finish(`${o.duration} s elapsed`), o.duration * 1000).unref();
  const why = await done;
  // Before the stop: a stopped worker's thread is gone, and its CPU with it.
  const threads = threadCpu();
  await app.stop(why);
  const summaries = app.lineSummaries();
  for (const s of Object.values(summaries)) s.threads = threads;
  const names = Object.keys(summaries);
  for (const name of names) process.stdout.write(`\n${names.length > 1 ? `line ${name}\n` : ""}${formatSummary(summaries[name]!)}\n`);
  // One line: its summary, as it always was; several: each under its name.
  const json = names.length === 1 ? summaries[names[0]!] : { lines: summaries };
  if (o.summaryJson) writeFileSync(o.summaryJson, JSON.stringify(json, null, 2) + "\n");
  const ok = Object.values(summaries).every((s) => s.in_flight === 0 && s.invariant_ok);
  return ok ? EXIT.OK : EXIT.INVARIANT;
}

function cmdCheckConfig(args: string[]): number {
  const { values, positionals } = parseCommand(args, { quiet: { type: "boolean", short: "q" } }, true);
  if (values.help) return help("check-config");
  if (positionals.length !== 1) throw usageError("check-config takes exactly one config file");
  const config = loadConfig(positionals[0]!);
  // A line with several cameras says which: `lane1 [views top, bottom]`.
  const named = (l: LineConfig) => `${l.station.line}${l.views ? ` [views ${Object.keys(l.views).join(", ")}]` : ""}`;
  const form = config.lines ? `${config.lines.length} line${config.lines.length === 1 ? "" : "s"} (${config.lines.map(named).join(", ")}), from lines:` : `one line '${named(config)}' (no lines: section)`;
  if (!values.quiet) process.stdout.write(`${positionals[0]}: valid: ${form}\n`);
  return EXIT.OK;
}

function help(cmd: keyof typeof USAGE): number {
  process.stdout.write(USAGE[cmd]);
  return EXIT.OK;
}

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  let helpFor = cmd ? `${cmd} ` : "";
  try {
    switch (cmd) {
      case "run":
        return await cmdRun(rest);
      case "check-config":
        return cmdCheckConfig(rest);
      case "defects":
        return (await import("./cli/defects.js")).cmdDefects(rest);
      case "stats":
        return (await import("./cli/stats.js")).cmdStats(rest);
      case "infer":
        return await (await import("./cli/infer.js")).cmdInfer(rest);
      case "synth":
        return (await import("./cli/synth.js")).cmdSynth(rest);
      case "errors":
        return (await import("./cli/errors.js")).cmdErrors(rest);
      case "version":
      case "--version":
        process.stdout.write(`edge-inspect ${VERSION}\n`);
        return EXIT.OK;
      case undefined:
      case "help":
      case "--help":
      case "-h":
        return help("main");
      default:
        helpFor = "";
        throw usageError(`unknown command '${cmd}'`);
    }
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`edge-inspect: invalid config ${err.message}\n`);
      return EXIT.CONFIG;
    }
    if (errorCode(err) === "E_USAGE") {
      process.stderr.write(`edge-inspect: ${errorMessage(err)}\nTry 'edge-inspect ${helpFor}--help'.\n`);
      return EXIT.USAGE;
    }
    process.stderr.write(`edge-inspect: ${errorCode(err)}: ${errorMessage(err)}\n`);
    return EXIT.FAILURE;
  }
}

process.exitCode = await main(process.argv.slice(2));
