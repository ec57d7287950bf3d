import pino from "pino";
import type { Logger } from "../../daemon/util/log.js";

/** A logger for tests: silent unless EDGE_INSPECT_TEST_LOG names a level. */
export function quietLog(): Logger {
  return pino({ level: process.env.EDGE_INSPECT_TEST_LOG ?? "silent" });
}
