import type { Benchmark } from "./harness.js";

/** Every benchmark `npm run bench` knows, in the order it runs them. */
export const BENCHMARKS: Benchmark[] = [];
