/**
 * Array-backed ring buffers: the run queue (`RingQueue`) and the mailbox (`PairQueue`).
 *
 * Both grow by doubling (capacity is a power of two, so wrapping is a mask) and never allocate
 * per element: `PairQueue` keeps a message and its sender in two adjacent slots instead of an
 * envelope object, so enqueueing a message allocates nothing once the buffer is big enough.
 * Buffers are allocated on first use (most actors of a large tree are idle) and given back when
 * a queue that grew past `retainSlotsMax` drains, so one burst does not pin memory forever.
 * Bounds are the caller's business (the mailbox checks `mailboxMax` before pushing).
 */

/** Slots a drained queue keeps; a larger buffer is dropped when the queue empties. */
export const retainSlotsMax = 1024;
const initialSlots = 16;
/**
 * The buffer of every empty, never-used queue: shared, and never written, because a push into
 * a full buffer (and the empty one is full) grows first. Saves an array per idle actor.
 */
const unallocated = Object.freeze([]) as never[];

export class RingQueue<T> {
  private buf: (T | undefined)[] = unallocated;
  private head = 0;
  private mask = -1;
  size = 0;

  push(x: T): void {
    if (this.size === this.buf.length) this.grow();
    this.buf[(this.head + this.size) & this.mask] = x;
    this.size++;
  }

  /** The oldest element, removed; undefined when empty. */
  shift(): T | undefined {
    if (this.size === 0) return undefined;
    const x = this.buf[this.head];
    this.buf[this.head] = undefined;
    this.head = (this.head + 1) & this.mask;
    this.size--;
    if (this.size === 0 && this.buf.length > retainSlotsMax) this.reset();
    return x;
  }

  private grow(): void {
    const cap = this.buf.length === 0 ? initialSlots : this.buf.length * 2;
    const next = new Array<T | undefined>(cap);
    for (let i = 0; i < this.size; i++) next[i] = this.buf[(this.head + i) & this.mask];
    this.buf = next;
    this.head = 0;
    this.mask = cap - 1;
  }

  private reset(): void {
    this.buf = unallocated;
    this.head = 0;
    this.mask = -1;
  }
}

/**
 * A FIFO of (message, sender) pairs. Read the front with `frontMessage()`/`frontSender()`, then
 * `dropFront()`: three inlinable calls instead of a tuple allocation per message.
 */
export class PairQueue {
  private buf: unknown[] = unallocated;
  private head = 0;
  private mask = -1;
  size = 0;

  push(msg: unknown, sender: unknown): void {
    if (this.size * 2 === this.buf.length) this.grow();
    const i = (this.head + this.size * 2) & this.mask;
    this.buf[i] = msg;
    this.buf[i + 1] = sender;
    this.size++;
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
    this.size--;
    if (this.size === 0 && this.buf.length > retainSlotsMax) this.reset();
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

  private grow(): void {
    const cap = this.buf.length === 0 ? initialSlots : this.buf.length * 2;
    const next = new Array<unknown>(cap);
    for (let k = 0; k < this.size * 2; k++) next[k] = this.buf[(this.head + k) & this.mask];
    this.buf = next;
    this.head = 0;
    this.mask = cap - 1;
  }

  private reset(): void {
    this.buf = unallocated;
    this.head = 0;
    this.mask = -1;
  }
}
