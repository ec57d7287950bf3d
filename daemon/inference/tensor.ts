/** A model output as the heads read it, whatever the runtime: float32, row-major. */
export interface RawTensor {
  dims: number[];
  data: Float32Array;
}

/** A box in corner form [x1, y1, x2, y2] with its class index and score. */
export interface Detection {
  box: [number, number, number, number];
  cls: number;
  score: number;
}
