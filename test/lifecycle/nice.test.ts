import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import pino from "pino";
import { App } from "../../daemon/app.js";
import { BASE_YAML, lineConfig } from "../fakes/line.js";

/** Nice value of each thread of this process, from /proc (field 19 of stat, after the command in parentheses). */
function threadNices(): Map<string, number> {
  return new Map(
    readdirSync("/proc/self/task").map((tid) => {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, "utf8");
      return [tid, Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[16])];
    }),
  );
}

test("lifecycle.nice: every thread of the daemon, those started later too, runs at it (or one warning says why not)", async () => {
  const lines: string[] = [];
  const app = new App(lineConfig(BASE_YAML.replace("lifecycle: { progress_report_ms: 60000 }", "lifecycle: { progress_report_ms: 60000, nice: -7 }")), pino({ level: "warn" }, { write: (s: string) => lines.push(s) }));
  const before = new Set(threadNices().keys());
  await app.start();
  try {
    const after = threadNices();
    // The capture thread and the reject core (and inference, the writer where configured) started after the call: they inherited it.
    const started = [...after].filter(([tid]) => !before.has(tid)).map(([, nice]) => nice);
    assert.ok(started.length >= 2, `threads started by the line: ${started.length}`);
    const main = after.get(String(process.pid));
    if (process.getuid?.() === 0) assert.deepEqual([main, ...new Set(started)], [-7, -7], `main ${main}, started ${started.join(" ")}`);
    else assert.equal(lines.filter((l) => l.includes("E_NICE")).length, 1, lines.join(""));
  } finally {
    await app.stop("test");
  }
});
