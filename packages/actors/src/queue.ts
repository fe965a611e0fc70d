/**
 * Array-backed ring buffers: the run queue (`RingQueue`) and the mailbox (`PairQueue`), on one
 * buffer manager (`SlotRing`, which the actor transport's outbound queue also uses).
 *
 * They grow by doubling (capacity is a power of two, so wrapping is a mask) and never allocate
 * per element: `PairQueue` keeps a message and its sender in two adjacent slots instead of an
 * envelope object, so enqueueing a message allocates nothing once the buffer is big enough.
 * Buffers are allocated on first use (most actors of a large tree are idle). A buffer that grew
 * past `retainSlotsMax` is given back after `quietDrainsMax` drains in a row that each used at
 * most a quarter of it (`quietDrains`), so one burst does not pin memory for long, while a
 * queue that fills and drains in bursts keeps its buffer instead of growing it again by
 * doubling every burst (measured: 3.7 % of the remote benchmark's sender in `grow` when every
 * drain gave the buffer back).
 * Bounds are the caller's business (the mailbox checks `mailboxMax` before pushing).
 */

/** Slots a drained queue always keeps; a larger buffer is given back as `quietDrains` says. */
export const retainSlotsMax = 1024;
/** Quiet drains in a row after which a buffer larger than `retainSlotsMax` is given back. */
export const quietDrainsMax = 8;

/**
 * After a queue with a buffer of `slots` slots drained, having held at most `peakSlots` slots'
 * worth of items since it last drained: the new count of quiet drains in a row (`before` + 1
 * when the buffer is large and the cycle used at most a quarter of it, else 0). At
 * `quietDrainsMax` the queue gives its buffer back. A queue left empty keeps what it has until
 * it is used again (an idle peer or actor: one buffer, bounded by its queue's limit).
 */
export function quietDrains(slots: number, peakSlots: number, before: number): number {
  return slots > retainSlotsMax && peakSlots * 4 <= slots ? before + 1 : 0;
}
const initialSlots = 16;
/**
 * The buffer of every empty, never-used queue: shared, and never written, because a push into
 * a full buffer (and the empty one is full) grows first. Saves an array per idle actor.
 */
const unallocated = Object.freeze([]) as never[];

/**
 * The buffer management every queue here shares (and the actor transport's outbound queue,
 * net/sends.ts): a power-of-two array of `width` slots per item, grown by doubling when full
 * (`grow`) and given back after `quietMax` quiet drains in a row (`drained`, `quietDrains`).
 * Subclasses keep their own push and take code — the hot paths — and call `grow` when full,
 * count `peak` on push, and call `drained` when the last item leaves.
 */
export abstract class SlotRing {
  protected buf: unknown[] = unallocated;
  protected head = 0;
  protected mask = -1;
  /** Most items held since the queue last drained. */
  protected peak = 0;
  /** Quiet drains in a row (`quietDrains`). */
  private quiet = 0;
  size = 0;

  protected constructor(
    private readonly width: number,
    private readonly firstSlots: number,
    private readonly quietMax: number,
  ) {}

  /** Items the buffer holds without growing (tests, diagnostics). */
  get capacity(): number {
    return this.buf.length / this.width;
  }

  protected grow(): void {
    const cap = this.buf.length === 0 ? this.firstSlots : this.buf.length * 2;
    const next = new Array<unknown>(cap);
    const used = this.size * this.width;
    for (let k = 0; k < used; k++) next[k] = this.buf[(this.head + k) & this.mask];
    this.buf = next;
    this.head = 0;
    this.mask = cap - 1;
  }

  protected drained(): void {
    this.quiet = quietDrains(this.buf.length, this.peak * this.width, this.quiet);
    if (this.quiet >= this.quietMax) {
      this.buf = unallocated;
      this.mask = -1;
      this.quiet = 0;
    }
    this.head = 0;
    this.peak = 0;
  }
}

export class RingQueue<T> extends SlotRing {
  constructor() {
    super(1, initialSlots, quietDrainsMax);
  }

  push(x: T): void {
    if (this.size === this.buf.length) this.grow();
    this.buf[(this.head + this.size) & this.mask] = x;
    if (++this.size > this.peak) this.peak = this.size;
  }

  /** The oldest element, removed; undefined when empty. */
  shift(): T | undefined {
    if (this.size === 0) return undefined;
    const x = this.buf[this.head] as T;
    this.buf[this.head] = undefined;
    this.head = (this.head + 1) & this.mask;
    if (--this.size === 0) this.drained();
    return x;
  }
}

/**
 * A FIFO of (message, sender) pairs. Read the front with `frontMessage()`/`frontSender()`, then
 * `dropFront()`: three inlinable calls instead of a tuple allocation per message.
 */
export class PairQueue extends SlotRing {
  constructor() {
    super(2, initialSlots, quietDrainsMax);
  }

  push(msg: unknown, sender: unknown): void {
    if (this.size * 2 === this.buf.length) this.grow();
    const i = (this.head + this.size * 2) & this.mask;
    this.buf[i] = msg;
    this.buf[i + 1] = sender;
    if (++this.size > this.peak) this.peak = this.size;
  }

  frontMessage(): unknown {
    return this.buf[this.head];
  }

  frontSender(): unknown {
    return this.buf[this.head + 1];
  }

  dropFront(): void {
    const h = this.head;
    this.buf[h] = undefined;
    this.buf[h + 1] = undefined;
    this.head = (h + 2) & this.mask;
    if (--this.size === 0) this.drained();
  }

  /** Removes and returns every pair, oldest first (used when an actor stops). */
  takeAll(): { message: unknown; sender: unknown }[] {
    const out: { message: unknown; sender: unknown }[] = [];
    while (this.size > 0) {
      out.push({ message: this.frontMessage(), sender: this.frontSender() });
      this.dropFront();
    }
    return out;
  }

  /** A copy of the pending pairs, oldest first, without removing them. */
  snapshot(): { message: unknown; sender: unknown }[] {
    const out: { message: unknown; sender: unknown }[] = [];
    for (let k = 0; k < this.size; k++) {
      const i = (this.head + k * 2) & this.mask;
      out.push({ message: this.buf[i], sender: this.buf[i + 1] });
    }
    return out;
  }
}
