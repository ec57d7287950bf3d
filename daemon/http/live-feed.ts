import type { ServerResponse } from "node:http";
import type { Finding, SettledPart } from "../pipeline/part.js";
import type { Logger } from "../util/log.js";
import { errorMessage } from "../util/errors.js";
import { encodeJpeg } from "./frame-sampler.js";
import type { StationLine } from "./station.js";

export interface LiveStatus {
  /** The line this status is of, and every line of the station (the page's picker). */
  line: string;
  lines: string[];
  time_ms: number;
  state: string;
  paused: boolean;
  model_version: string;
  camera_connected: boolean;
  parts: { triggered: number; accepted: number; rejected: number; failsafe: number; in_flight: number };
  /** Over the last minute (or since start, if shorter). */
  parts_per_min: number;
  reject_rate: number;
  /** The part settled last. */
  last: LivePart | null;
  /** The last part whose frame is at /api/live/frame.jpg: its verdict and boxes belong to that frame. */
  framed: (LivePart & { frame_seq: number; width: number; height: number }) | null;
}

export interface LivePart {
  part_id: number;
  outcome: string;
  reason: string;
  findings: Finding[];
}

const livePart = (p: SettledPart): LivePart => ({ part_id: p.id, outcome: p.outcome, reason: p.reason, findings: p.judgement.findings });

const WINDOW_MS = 60_000;
const SAMPLE_MS = 1000;
/** Clients beyond this are refused: each costs a socket and a write per interval. */
const MAX_CLIENTS = 32;
const KEPT_JPEGS = 4;

/**
 * One line's live view: one status event per interval to every subscriber,
 * whatever the line rate, and the frame of the last verdict encoded at most
 * once per interval, only while someone watches.
 */
export class LiveFeed {
  private last: SettledPart | undefined;
  /** The last settled part whose frame was sampled, not yet encoded. */
  private toEncode: SettledPart | undefined;
  private readonly clients = new Set<ServerResponse>();
  private readonly samples: Array<{ t: number; settled: number; rejected: number }> = [];
  /** The last few encoded frames, so a viewer fetching one just replaced still gets the frame its boxes belong to. */
  private readonly jpegs: Array<{ part: SettledPart; seq: number; data: Buffer; width: number; height: number }> = [];
  private encoding = false;
  private tickTimer: NodeJS.Timeout | undefined;
  private readonly sampleTimer: NodeJS.Timeout;

  constructor(
    private readonly station: StationLine,
    /** Every line's name, for the page's picker. */
    private readonly lineNames: string[],
    private readonly intervalMs: number,
    private readonly log: Logger,
  ) {
    station.addSettledListener((p) => {
      this.last = p;
      if (p.frameSeq !== undefined && station.frames.get(p.frameSeq)) this.toEncode = p;
    });
    this.sampleTimer = setInterval(() => this.sample(), SAMPLE_MS);
    this.sampleTimer.unref();
    this.sample();
  }

  status(): LiveStatus {
    const h = this.station.health();
    const s = this.station.summary();
    const now = Date.now();
    const first = this.samples[0];
    const settled = s.accepted + s.rejected;
    const dt = first ? now - first.t : 0;
    const dSettled = first ? settled - first.settled : 0;
    const j = this.jpegs[this.jpegs.length - 1];
    return {
      line: this.station.name,
      lines: this.lineNames,
      time_ms: now,
      state: h.state,
      paused: h.paused,
      model_version: h.modelVersion,
      camera_connected: h.camera.connected,
      parts: { triggered: s.triggered, accepted: s.accepted, rejected: s.rejected, failsafe: s.failsafe, in_flight: s.in_flight },
      parts_per_min: dt > 0 ? Math.round((dSettled / dt) * 60_000 * 10) / 10 : 0,
      reject_rate: dSettled > 0 ? Math.round(((s.rejected - first!.rejected) / dSettled) * 1000) / 1000 : 0,
      last: this.last ? livePart(this.last) : null,
      framed: j ? { ...livePart(j.part), frame_seq: j.seq, width: j.width, height: j.height } : null,
    };
  }

  /** The encoded frame with this sequence number, or the latest one. */
  frame(seq?: number): Buffer | undefined {
    if (seq === undefined) return this.jpegs[this.jpegs.length - 1]?.data;
    return this.jpegs.find((j) => j.seq === seq)?.data;
  }

  full(): boolean {
    return this.clients.size >= MAX_CLIENTS;
  }

  /** Takes over a response as an event stream until the client goes or the feed closes. */
  subscribe(res: ServerResponse): void {
    res.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-store",
      connection: "keep-alive",
      "x-accel-buffering": "no",
    });
    // A lost connection is retried by the browser after this long, not at once.
    res.write(`retry: 3000\n\n`);
    this.clients.add(res);
    res.on("close", () => {
      this.clients.delete(res);
      if (this.clients.size === 0) this.stopTicking();
    });
    this.send(res);
    this.tickTimer ??= setInterval(() => void this.tick(), this.intervalMs);
  }

  close(): void {
    clearInterval(this.sampleTimer);
    this.stopTicking();
    for (const c of this.clients) c.end();
    this.clients.clear();
  }

  private stopTicking(): void {
    if (this.tickTimer) clearInterval(this.tickTimer);
    this.tickTimer = undefined;
  }

  private async tick(): Promise<void> {
    await this.encodeLast();
    for (const c of this.clients) this.send(c);
  }

  private send(c: ServerResponse): void {
    // A client that does not keep up skips events instead of piling them up in memory.
    if (c.writableNeedDrain) return;
    c.write(`event: status\ndata: ${JSON.stringify(this.status())}\n\n`);
  }

  private async encodeLast(): Promise<void> {
    const part = this.toEncode;
    const f = part?.frameSeq === undefined ? undefined : this.station.frames.get(part.frameSeq);
    if (!part || !f || this.encoding) return;
    this.encoding = true;
    this.toEncode = undefined;
    try {
      this.jpegs.push({ part, seq: f.seq, data: await encodeJpeg(f), width: f.width, height: f.height });
      if (this.jpegs.length > KEPT_JPEGS) this.jpegs.shift();
    } catch (err) {
      this.log.warn({ err: errorMessage(err) }, "live frame could not be encoded");
    } finally {
      this.encoding = false;
    }
  }

  private sample(): void {
    const s = this.station.summary();
    const now = Date.now();
    this.samples.push({ t: now, settled: s.accepted + s.rejected, rejected: s.rejected });
    while (this.samples.length > 1 && now - this.samples[0]!.t > WINDOW_MS) this.samples.shift();
  }
}
