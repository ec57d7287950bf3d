import { parseArgs } from "node:util";
import { printTable, writeJson, type Benchmark } from "./harness.js";
import { BENCHMARKS } from "./registry.js";

/**
 * npm run bench                      all benchmarks → bench/results/latest.json
 * npm run bench -- NAME --json FILE  one benchmark
 */
const { values, positionals } = parseArgs({
  options: {
    json: { type: "string" },
    scale: { type: "string", default: "1" },
    duration: { type: "string" },
    help: { type: "boolean", short: "h" },
  },
  allowPositionals: true,
  strict: false,
});

const list = () => BENCHMARKS.map((b) => `  ${b.name.padEnd(12)} ${b.description}`).join("\n");
if (values.help) {
  process.stdout.write(`Usage: npm run bench -- [NAME...] [--json FILE] [--scale X] [--duration S]\n\nBenchmarks:\n${list()}\n`);
  process.exit(0);
}
const unknown = positionals.filter((p) => !BENCHMARKS.some((b) => b.name === p));
if (unknown.length > 0) {
  process.stderr.write(`bench: unknown benchmark ${unknown.join(", ")}\nBenchmarks:\n${list()}\n`);
  process.exit(64);
}
const scale = Number(values.scale);
if (!Number.isFinite(scale) || scale <= 0) {
  process.stderr.write(`bench: --scale must be a positive number\n`);
  process.exit(64);
}
const chosen: Benchmark[] = positionals.length ? BENCHMARKS.filter((b) => positionals.includes(b.name)) : BENCHMARKS;
const results: Record<string, unknown> = {};
for (const b of chosen) {
  const opts = { scale, args: positionals, ...(values.duration ? { duration: Number(values.duration) } : {}) };
  const r = await b.run(opts);
  printTable(`${b.name}: ${b.description}`, r.rows);
  results[b.name] = r.data;
}
const file = typeof values.json === "string" ? values.json : "bench/results/latest.json";
writeJson(file, {
  machine: { node: process.version, arch: process.arch, cpus: (await import("node:os")).cpus().length },
  date: new Date().toISOString(),
  results: positionals.length === 1 ? results[positionals[0]!] : results,
});
process.stdout.write(`\nwrote ${file}\n`);
process.exit(0);
