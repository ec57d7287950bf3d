/**
 * Frame buffers shared by the capture thread and the main thread: a fixed set
 * of slots in shared memory, one frame each. The capture thread fills a free
 * slot and hands its number over; the main thread reads the pixels in place
 * and gives the slot back once every holder has let go of the frame. Capture
 * then allocates nothing per frame: resident memory is the pool's size
 * whatever the frame rate, and no frame waits for a garbage collection to be
 * returned. The pool is made for one frame size; a source that changes size
 * gets a new pool (the old one goes once its last frame is released).
 */
export interface FramePoolShared {
  pixels: SharedArrayBuffer;
  /** Int32: one state per slot (FREE or TAKEN), then the count of slots ever given back. */
  state: SharedArrayBuffer;
  slots: number;
  slotBytes: number;
}

const FREE = 0;
const TAKEN = 1;

/** The capture thread's side: takes free slots to fill. */
export class FramePoolWriter {
  readonly shared: FramePoolShared;
  private readonly state: Int32Array;
  private readonly views: Buffer[] = [];
  private cursor = 0;

  constructor(slots: number, slotBytes: number) {
    this.shared = {
      pixels: new SharedArrayBuffer(slots * slotBytes),
      state: new SharedArrayBuffer((slots + 1) * Int32Array.BYTES_PER_ELEMENT),
      slots,
      slotBytes,
    };
    this.state = new Int32Array(this.shared.state);
    for (let i = 0; i < slots; i++) this.views.push(Buffer.from(this.shared.pixels, i * slotBytes, slotBytes));
  }

  /** A free slot, now taken, or -1 when the main thread holds them all. */
  take(): number {
    const n = this.shared.slots;
    for (let k = 0; k < n; k++) {
      const slot = (this.cursor + k) % n;
      if (Atomics.compareExchange(this.state, slot, FREE, TAKEN) === FREE) {
        this.cursor = (slot + 1) % n;
        return slot;
      }
    }
    return -1;
  }

  /** Blocks this thread until a slot is given back or `timeoutMs` passes. */
  waitForRelease(timeoutMs: number): void {
    const n = this.shared.slots;
    Atomics.wait(this.state, n, Atomics.load(this.state, n), timeoutMs);
  }

  /** The slot's whole buffer (slotBytes long). */
  view(slot: number): Buffer {
    return this.views[slot]!;
  }
}

/**
 * The main thread's side: counts the holders of each taken slot and frees it
 * when the last one lets go. A holder that drops its release function without
 * calling it is caught by the collector: the slot comes back late, and
 * `onLeak` hears of it.
 */
export class FramePoolReader {
  private readonly state: Int32Array;
  private readonly views: Buffer[] = [];
  private readonly holders: number[];
  private readonly unreleased = new FinalizationRegistry<number>((slot) => {
    this.onLeak(slot);
    this.letGo(slot);
  });

  constructor(
    readonly shared: FramePoolShared,
    private readonly onLeak: (slot: number) => void = () => {},
  ) {
    this.state = new Int32Array(shared.state);
    this.holders = new Array<number>(shared.slots).fill(0);
    for (let i = 0; i < shared.slots; i++) this.views.push(Buffer.from(shared.pixels, i * shared.slotBytes, shared.slotBytes));
  }

  /** The first `bytes` of a slot the capture thread filled. */
  pixels(slot: number, bytes: number): Buffer {
    return this.views[slot]!.subarray(0, bytes);
  }

  /** One more holder of a taken slot; the returned function lets go (once; later calls do nothing). */
  retain(slot: number): () => void {
    this.holders[slot]!++;
    let held = true;
    const release = () => {
      if (!held) return;
      held = false;
      this.unreleased.unregister(release);
      this.letGo(slot);
    };
    this.unreleased.register(release, slot, release);
    return release;
  }

  private letGo(slot: number): void {
    if (--this.holders[slot]! > 0) return;
    const n = this.shared.slots;
    Atomics.store(this.state, slot, FREE);
    Atomics.add(this.state, n, 1);
    Atomics.notify(this.state, n);
  }
}
