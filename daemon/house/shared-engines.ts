import type { Frame } from "../capture/camera.js";
import type { Engine, EngineInfo, EngineResult } from "../inference/engine.js";
import { WorkerEngine, type WorkerEngineOptions } from "../inference/worker-engine.js";
import { EdgeError } from "../util/errors.js";
import type { Logger } from "../util/log.js";

interface Shared {
  users: Set<EngineShare>;
  engine: Engine | undefined;
  loading: Promise<EngineInfo> | undefined;
}

/**
 * Lines on the same model (package and variant, same backend settings)
 * share one engine: one worker thread, one onnxruntime session, its memory
 * paid once. Each line holds a share with a queue of its own, so that a
 * busy line cannot fill the engine and starve another (the worker answers
 * in arrival order; each line has at most its own `queue` waiting).
 */
export class SharedEngines {
  private readonly byKey = new Map<string, Shared>();

  /** A line's handle on the engine for `options`; the engine starts with the first load of any share. */
  share(options: WorkerEngineOptions, log: Logger): Engine {
    const key = JSON.stringify([options.module, options.options]);
    let s = this.byKey.get(key);
    if (!s) {
      s = { users: new Set(), engine: undefined, loading: undefined };
      this.byKey.set(key, s);
    }
    const share: EngineShare = new EngineShare(s, options, log, () => this.release(key, share));
    s.users.add(share);
    return share;
  }

  private async release(key: string, share: EngineShare): Promise<void> {
    const s = this.byKey.get(key);
    if (!s || !s.users.delete(share) || s.users.size > 0) return;
    this.byKey.delete(key);
    await s.engine?.close();
  }
}

/** Started once, for every share: its queue the sum of theirs, its hang and load bounds the longest. */
function startShared(s: Shared, log: Logger): Promise<EngineInfo> {
  if (s.loading) return s.loading;
  const users = [...s.users].map((u) => u.options);
  const options: WorkerEngineOptions = {
    ...users[0]!,
    queue: users.reduce((n, u) => n + u.queue, 0),
    hangTimeoutMs: Math.max(...users.map((u) => u.hangTimeoutMs)),
    loadTimeoutMs: Math.max(...users.map((u) => u.loadTimeoutMs)),
  };
  const engine = new WorkerEngine(options, log);
  s.engine = engine;
  s.loading = engine.load();
  return s.loading;
}

/** One line's share of an engine: its own queue bound and pending count. */
class EngineShare implements Engine {
  private inflight = 0;
  private closed = false;

  constructor(
    private readonly shared: Shared,
    readonly options: WorkerEngineOptions,
    private readonly log: Logger,
    private readonly onClose: () => Promise<void>,
  ) {}

  load(): Promise<EngineInfo> {
    return startShared(this.shared, this.log);
  }

  async infer(frame: Frame): Promise<EngineResult> {
    const engine = this.shared.engine;
    if (this.closed || !engine) throw new EdgeError("E_ENGINE_FAILED", "engine closed");
    if (this.inflight >= this.options.queue) throw new EdgeError("E_ENGINE_OVERLOAD", `engine queue full (${this.options.queue})`);
    this.inflight++;
    try {
      return await engine.infer(frame);
    } finally {
      this.inflight--;
    }
  }

  pending(): number {
    return this.inflight;
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    return this.onClose();
  }
}
