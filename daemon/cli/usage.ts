/** Exit codes, documented in the README and in `edge-inspect --help`. */
export const EXIT = {
  OK: 0,
  /** Start-up or runtime failure (model, camera, store...). */
  FAILURE: 1,
  /** The configuration is invalid. */
  CONFIG: 2,
  /** The run ended with parts unaccounted for (in flight, or books not balanced). */
  INVARIANT: 3,
  /** Bad command line. */
  USAGE: 64,
  /** A second SIGINT/SIGTERM: stopped at once, outputs safe. */
  SIGNAL_AGAIN: 130,
} as const;

const EXIT_TEXT = `Exit codes:
  0    success
  1    start-up or runtime failure
  2    invalid configuration
  3    run ended with parts unaccounted for
  64   bad command line
  130  second stop signal: exited at once, outputs safe
`;

export const USAGE = {
  main: `Usage: edge-inspect <command> [options]

Inspection station daemon: camera, defect model, reject actuator, records, MQTT.

Commands:
  run            run the station (see 'edge-inspect run --help')
  check-config   validate a config file
  defects        list rejected parts from the records database
  stats          parts, reject rates, fail-safe counts, latency from the records
  infer          run a model package on image files (try a model before deploying it)
  synth          render synthetic line video/images with ground truth
  errors         what an error code means (every code, or the one given)
  version        print the version

${EXIT_TEXT}`,
  run: `Usage: edge-inspect run [--config FILE] [--max-parts N] [--duration S] [--summary-json FILE]

Runs the station until SIGINT/SIGTERM, or until a bound is reached, then
finishes the parts in flight and prints a summary.

Options:
  -c, --config FILE      config file (default /etc/edge-inspect/config.yaml)
      --max-parts N      stop after N parts have been triggered
      --duration S       stop after S seconds
      --summary-json F   also write the summary as JSON to F
  -h, --help             this help

${EXIT_TEXT}`,
  "check-config": `Usage: edge-inspect check-config FILE [--quiet]

Validates FILE (with EDGE_INSPECT_* overrides and secrets applied) and lists
every problem as 'path: problem (line N)'.

Options:
  -q, --quiet   print nothing when valid
  -h, --help    this help

${EXIT_TEXT}`,
} as const;
