/** What a synthetic or replayed source knows about the part in a frame. */
export interface GroundTruth {
  partType: string;
  /** Defect class, or null for a good part. */
  defect: string | null;
  /** Defect bounding box in frame pixels [x, y, w, h]. */
  box?: [number, number, number, number];
  /** Set on a defect kind no model was trained on (the synthetic line's novel defects). */
  novel?: true;
}

/** One captured image: packed BGR, 8 bits per channel, rows of width*3 bytes. */
export interface Frame {
  seq: number;
  /** Capture time on the process clock (util/clock nowMs). */
  tCaptureMs: number;
  width: number;
  height: number;
  data: Buffer;
  truth?: GroundTruth;
}

/**
 * A frame as the camera hands it to its sink. The pixels are the camera's
 * again once the sink returns: a holder that keeps the frame past that
 * retains it, and calls the function retain returned once done.
 */
export interface CameraFrame extends Frame {
  retain(): () => void;
}

export interface CameraStats {
  frames: number;
  drops: number;
  reconnects: number;
  stalls: number;
  connected: boolean;
}

/**
 * A frame source. Frames are pushed to the sink as they are captured; a source
 * never blocks the event loop while it waits for the next one.
 */
export interface Camera {
  readonly kind: string;
  start(sink: (frame: CameraFrame) => void): Promise<void>;
  stop(): Promise<void>;
  stats(): CameraStats;
}
