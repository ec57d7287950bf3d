import type { Benchmark } from "./harness.js";
import { recordsBenchmark } from "./records.js";
import { actuationBenchmark } from "./actuation.js";
import { inferenceBenchmark } from "./inference.js";
import { pipelineBenchmark } from "./pipeline.js";
import { captureBenchmark } from "./capture.js";
import { stressBenchmark } from "./stress.js";
import { wakeBenchmark } from "./wake.js";
import { linesBenchmark } from "./lines.js";
import { soakBenchmark } from "./soak.js";
import { profileBenchmark } from "./profile.js";

/** Every benchmark `npm run bench` knows, in the order it runs them. */
export const BENCHMARKS: Benchmark[] = [recordsBenchmark, actuationBenchmark, inferenceBenchmark, captureBenchmark, pipelineBenchmark, stressBenchmark, wakeBenchmark, linesBenchmark, soakBenchmark, profileBenchmark];
