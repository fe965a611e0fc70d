/**
 * The `actor.sends` envelope (link protocol v2), both ways: queued items to batch items for the
 * codec (`toBatchItems`), and refs of a received body bound once per frame (`bindIndexed`).
 *
 * A run of consecutive sends becomes one `actor.sends` body: each distinct ref once in `refs`,
 * then per message `(to, from, body)` with the refs as indexes. `toBatchItems` also counts the
 * values of what it builds exactly as the receiver's scanner counts them (keys included), which
 * lets the router skip scanning its own frames when the bodies were checked at dispatch
 * (`WireBodies`, body.ts) and the count is far from `elementsMax`.
 */
import { ActorDemonitor, ActorMonitor, ActorSends, batchItem, type ActorRefWire, type BatchItem } from '@shoal/wire';
import type { ActorRef } from '../ref.js';
import { refFromJSON, type RefJSON } from '../ref.js';
import { SlotRing } from '../queue.js';
import type { ActorSystem } from '../system.js';

/**
 * Quiet drains in a row after which a peer's large outbound buffer is given back (queue.ts
 * `quietDrains`). Higher than a mailbox's `quietDrainsMax`: a node has one queue per peer, not
 * one per actor, and a bulk sender's queue drains every turn between bursts (the remote
 * benchmark's sender regrew its buffer from 64 slots every few hundred drains with 8).
 */
export const outboundQuietDrainsMax = 1024;

type AnyRef = ActorRef<unknown>;

/**
 * A queued item. Sends keep the refs themselves (immutable values): they are turned into wire
 * form once per frame and distinct ref (`encodeSends`), not once per message.
 */
export type Outbound =
  /** `body` from `WireBodies.toWire`, `elements` its value count. */
  | { k: 'send'; to: AnyRef; from: AnyRef | undefined; body: unknown; elements: number }
  | { k: 'monitor' | 'demonitor'; watcher: RefJSON; target: RefJSON; id: number };

/**
 * A peer's outbound queue: a ring buffer of four slots per item (queue.ts `SlotRing`), so a
 * queued message costs no object of its own. Queued messages live long enough (the queue
 * absorbs bursts of up to `outboundQueueMax`) to survive young-generation collections, which
 * then copy them (the remote benchmark's sender spent 12–19 % of its CPU in GC, its scavenges
 * finding most of the young generation alive). The send path takes a frame's items as slots
 * (`takeInto`); only `shift` (undeliverable items) makes an `Outbound` object.
 *
 * Slots: `[tag, a, b, c]`; a send is `[elements ≥ 0, to, from, body]`, a monitor
 * `[-1, watcher, target, id]`, a demonitor `[-2, watcher, target, id]`.
 */
export class OutboundQueue extends SlotRing {
  constructor() {
    super(4, 64, outboundQuietDrainsMax);
  }

  pushSend(to: AnyRef, from: AnyRef | undefined, body: unknown, elements: number): void {
    this.pushSlots(elements, to, from, body);
  }

  /** A monitor or demonitor request (sends go through `pushSend`). */
  push(item: Exclude<Outbound, { k: 'send' }>): void {
    this.pushSlots(item.k === 'monitor' ? -1 : -2, item.watcher, item.target, item.id);
  }

  /** The oldest item, removed; undefined when empty. */
  shift(): Outbound | undefined {
    if (this.size === 0) return undefined;
    const item = itemAt(this.buf, this.head);
    this.dropFront();
    return item;
  }

  /**
   * Moves up to `max` of the oldest items into `chunk` (four slots each, from index 0: read
   * them with `itemAt(chunk, 4 * i)` or `toBatchItems`) and returns how many: the send path
   * takes a frame's worth without an object per item. The caller clears `chunk` after use.
   */
  takeInto(chunk: unknown[], max: number): number {
    let n = 0;
    const buf = this.buf;
    for (; n < max && this.size > 0; n++) {
      const h = this.head;
      const j = 4 * n;
      chunk[j] = buf[h];
      chunk[j + 1] = buf[h + 1];
      chunk[j + 2] = buf[h + 2];
      chunk[j + 3] = buf[h + 3];
      this.dropFront();
    }
    return n;
  }

  private dropFront(): void {
    const buf = this.buf;
    const h = this.head;
    buf[h + 1] = buf[h + 2] = buf[h + 3] = undefined;
    this.head = (h + 4) & this.mask;
    if (--this.size === 0) this.drained();
  }

  private pushSlots(tag: number, a: unknown, b: unknown, c: unknown): void {
    if (this.size * 4 === this.buf.length) this.grow();
    const i = (this.head + this.size * 4) & this.mask;
    const buf = this.buf;
    buf[i] = tag;
    buf[i + 1] = a;
    buf[i + 2] = b;
    buf[i + 3] = c;
    if (++this.size > this.peak) this.peak = this.size;
  }
}

/** The item whose four slots start at `slots[i]` (an `OutboundQueue` buffer or a chunk). */
export function itemAt(slots: readonly unknown[], i: number): Outbound {
  const tag = slots[i] as number;
  const a = slots[i + 1];
  const b = slots[i + 2];
  const c = slots[i + 3];
  if (tag >= 0) return { k: 'send', to: a as AnyRef, from: b as AnyRef | undefined, body: c, elements: tag };
  return { k: tag === -1 ? 'monitor' : 'demonitor', watcher: a as RefJSON, target: b as RefJSON, id: c as number };
}

/** Four slots per item, as `OutboundQueue.takeInto` writes them (tests build chunks with it). */
export function chunkOf(items: readonly Outbound[]): unknown[] {
  const q = new OutboundQueue();
  for (const item of items) {
    if (item.k === 'send') q.pushSend(item.to, item.from, item.body, item.elements);
    else q.push(item);
  }
  const chunk: unknown[] = [];
  q.takeInto(chunk, items.length);
  return chunk;
}

/** `refs[index]` bound to `system`, memoised in `bound`; null when it does not bind. */
export function bindIndexed(system: ActorSystem, refs: readonly ActorRefWire[], bound: (AnyRef | null | undefined)[], index: number): AnyRef | null {
  let ref = bound[index];
  if (ref === undefined) {
    try {
      ref = refFromJSON(system, refs[index]);
    } catch {
      ref = null;
    }
    bound[index] = ref;
  }
  return ref;
}

/**
 * Items `start` to `end` (exclusive) of a chunk (four slots each, `OutboundQueue.takeInto`) as
 * batch items: each run of consecutive sends becomes one `actor.sends` body; monitors stay in
 * place between runs, so order holds. `checked` when the chunk is sends only (every body was
 * checked at dispatch by `WireBodies`, and every ref's names are well-formed since refs are
 * made only from well-formed names: names.ts): then the frame
 * needs no scan of its own if `elements` (its exact value count) is small.
 */
export function toBatchItems(chunk: readonly unknown[], start: number, end: number): { items: BatchItem[]; checked: boolean; elements: number } {
  const out: BatchItem[] = [];
  const count = { elements: 0 };
  let monitors = false;
  let i = start;
  while (i < end) {
    if ((chunk[4 * i] as number) >= 0) {
      const runEnd = sendRunEnd(chunk, i, end);
      out.push(batchItem(ActorSends, encodeSends(chunk, i, runEnd, count)));
      i = runEnd;
      continue;
    }
    monitors = true;
    const item = itemAt(chunk, 4 * i) as Exclude<Outbound, { k: 'send' }>;
    const body = { watcher: item.watcher, target: item.target, id: item.id };
    out.push(item.k === 'monitor' ? batchItem(ActorMonitor, body) : batchItem(ActorDemonitor, body));
    i++;
  }
  return { items: out, checked: !monitors && out.length === 1, elements: count.elements };
}

function sendRunEnd(chunk: readonly unknown[], start: number, end: number): number {
  let i = start;
  while (i < end && (chunk[4 * i] as number) >= 0) i++;
  return i;
}

/**
 * One `actor.sends` body for the sends `start` to `end` of a chunk: each distinct ref written
 * once. Refs are told apart by identity (a sender reuses its ref objects; two equal refs that
 * are different objects just take two entries), and the previous target is checked first,
 * since runs of messages to one actor are the common case. Adds the body's values, counted as
 * the scanner counts them, to `count.elements`.
 */
function encodeSends(
  chunk: readonly unknown[],
  start: number,
  end: number,
  count: { elements: number },
): { refs: RefJSON[]; items: unknown[] } {
  const refs: RefJSON[] = [];
  const index = new Map<AnyRef, number>();
  const flat = new Array<unknown>(3 * (end - start));
  // The map { refs, items }, its two keys, the two arrays.
  let elements = 5;
  const indexOf = (ref: AnyRef): number => {
    let i = index.get(ref);
    if (i === undefined) {
      i = refs.length;
      refs.push(ref.toJSON());
      index.set(ref, i);
      // { node, path }: the map, two keys, the node, the path array and its segments. (Its
      // names are well-formed: every ref is, names.ts `isPathSegment`.)
      elements += 5 + ref.path.length;
    }
    return i;
  };
  let lastTo: AnyRef | undefined;
  let lastToIndex = 0;
  for (let i = start, j = 0; i < end; i++, j += 3) {
    const k = 4 * i;
    const to = chunk[k + 1] as AnyRef;
    const from = chunk[k + 2] as AnyRef | undefined;
    if (to !== lastTo) {
      lastTo = to;
      lastToIndex = indexOf(to);
    }
    flat[j] = lastToIndex;
    flat[j + 1] = from === undefined ? null : indexOf(from);
    flat[j + 2] = chunk[k + 3];
    elements += 2 + (chunk[k] as number);
  }
  count.elements += elements;
  return { refs, items: flat };
}
