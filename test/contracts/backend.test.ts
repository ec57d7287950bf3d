import { createBackend as onnx } from "../../daemon/inference/onnx-backend.js";
import { createBackend as simulated } from "../../daemon/inference/simulated-backend.js";
import { createBackend as tfjs } from "../../daemon/inference/tfjs-backend.js";
import { CLASSIFIER, classifyFixtures } from "../inference/fixtures.js";
import { backendContract } from "./backend-contract.js";

const frames = () => classifyFixtures().map((f) => f.frame);

backendContract("simulated", () => simulated({ labels: ["ok", "scratch", "stain", "hole"], okLabel: "ok", latencyMs: 1, errorRate: 0.1, seed: 7 }), frames);
backendContract("onnxruntime", () => onnx({ dir: CLASSIFIER, variant: "float32", intraOpThreads: 1, interOpThreads: 1, spinning: false, graphOptimization: "all", providers: ["cpu"] }), frames);
backendContract("TF.js", () => tfjs({ dir: CLASSIFIER, variant: "tfjs", backends: ["wasm", "cpu"] }), frames);
