import type { Config } from "../config/schema.js";
import type { Camera } from "../capture/camera.js";
import { WorkerCamera } from "../capture/worker-camera.js";
import type { Trigger } from "../trigger/trigger.js";
import { SimulatedTrigger } from "../trigger/simulated-trigger.js";
import { GpioTrigger } from "../trigger/gpio-trigger.js";
import { FRAMES_KEPT } from "../trigger/frame-matcher.js";
import type { Encoder } from "../trigger/encoder.js";
import type { WorkerEngineOptions } from "../inference/worker-engine.js";
import type { SimulatedBackendOptions } from "../inference/simulated-backend.js";
import { packageEngineOptions } from "../inference/package-engine.js";
import type { Gpio } from "../actuation/gpio.js";
import { SimulatedGpio } from "../actuation/simulated-gpio.js";
import { OnoffGpio } from "../actuation/onoff-gpio.js";
import { ChardevGpio } from "../actuation/chardev-gpio.js";
import { inputSpec } from "../actuation/line-actuation.js";
import type { Store } from "../records/store.js";
import { MemoryStore } from "../records/memory-store.js";
import { SqliteStore } from "../records/sqlite-store.js";
import { sqliteStoreOptions } from "../records/sqlite-options.js";
import type { Publisher } from "../publish/publisher.js";
import { MemoryPublisher } from "../publish/memory-publisher.js";
import { MqttPublisher } from "../publish/mqtt-publisher.js";
import { mqttPublisherOptions } from "../publish/mqtt-options.js";
import type { DemoBroker } from "../publish/broker/embedded-broker.js";
import type { Logger } from "../util/log.js";

// The only place that picks implementations: one function per hardware edge, by the config's type.

/**
 * Every source type runs in a capture thread; the config says which. The line
 * holds a frame past its delivery while the part on it is judged (at most the
 * engine's queue, plus one from a model being swapped out) and, when
 * triggered or when another view's parts are paired with its frames, in
 * the matcher.
 */
export function buildCamera(config: Config, log: Logger): Camera {
  const matched = config.line.mode === "triggered" || config.views !== undefined;
  const held = config.engine_runtime.queue + 1 + (matched ? FRAMES_KEPT : 0);
  return new WorkerCamera(config.camera, log, held);
}

export function buildTrigger(config: Config, gpio: Gpio, encoder: Encoder | undefined): Trigger | undefined {
  const t = config.trigger;
  if (!t) return undefined;
  switch (t.type) {
    case "simulated":
      return new SimulatedTrigger(t.rate_hz, t.jitter_ms);
    case "gpio":
      return new GpioTrigger(gpio.input(inputSpec(t.input, t.edge)), t.debounce_ms, encoder);
  }
}

export function buildStore(config: Config, log: Logger): Store {
  const r = config.records;
  switch (r.type) {
    case "memory":
      return new MemoryStore(r.batch_ms);
    case "sqlite":
      return new SqliteStore(sqliteStoreOptions(config.data_dir, r), log.child({ component: "records" }));
  }
}

export function buildPublisher(config: Config, log: Logger, embedded: DemoBroker | undefined): Publisher {
  const p = config.publish;
  switch (p.type) {
    case "memory":
      return new MemoryPublisher();
    case "mqtt":
      return new MqttPublisher(mqttPublisherOptions(config, p, embedded), log.child({ component: "mqtt" }));
  }
}

export function buildGpio(config: Config): Gpio {
  const g = config.actuation.gpio;
  switch (g.type) {
    case "simulated":
      return new SimulatedGpio();
    case "onoff":
      return new OnoffGpio();
    case "gpiod":
      return new ChardevGpio(g.chip);
  }
}

export function engineOptions(config: Config): WorkerEngineOptions {
  const e = config.engine;
  const rt = config.engine_runtime;
  const base = { queue: rt.queue, hangTimeoutMs: rt.hang_timeout_ms, loadTimeoutMs: rt.load_timeout_ms };
  switch (e.type) {
    case "simulated": {
      const options: SimulatedBackendOptions = {
        labels: e.labels,
        okLabel: config.decide.ok_label ?? "ok",
        latencyMs: e.latency_ms,
        errorRate: e.error_rate,
        seed: e.seed,
      };
      return { ...base, module: new URL("../inference/simulated-backend.js", import.meta.url).href, options };
    }
    case "onnx":
    case "tfjs":
      return packageEngineOptions(e, base);
  }
}
