import { EdgeError } from "../util/errors.js";

export type PackedFrame = { width: number; height: number; data: Uint8Array };

/** A frame whose pixels are not width x height packed BGR is refused before anything reads them. */
export function checkPacked(frame: PackedFrame): void {
  if (frame.data.length !== frame.width * frame.height * 3) {
    throw new EdgeError("E_FRAME", `frame ${frame.width}x${frame.height} has ${frame.data.length} bytes, expected ${frame.width * frame.height * 3}`);
  }
}
