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
import { retainSlotsMax } from '../queue.js';
import { wellFormed } from './body.js';
import type { ActorSystem } from '../system.js';

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
 * A peer's outbound queue: a ring buffer of four slots per item, so a queued message costs no
 * object of its own. Queued messages live long enough (the queue absorbs bursts of up to
 * `outboundQueueMax`) to survive young-generation collections, which then copy them (the remote
 * benchmark's sender spent 12–19 % of its CPU in GC, its scavenges finding most of the young
 * generation alive); the `Outbound` objects `shift` makes die young, which costs them nothing.
 *
 * Slots: `[tag, a, b, c]`; a send is `[elements ≥ 0, to, from, body]`, a monitor
 * `[-1, watcher, target, id]`, a demonitor `[-2, watcher, target, id]`.
 */
export class OutboundQueue {
  private buf: unknown[] = [];
  private head = 0;
  private mask = -1;
  size = 0;

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
    const buf = this.buf;
    const h = this.head;
    const tag = buf[h] as number;
    const a = buf[h + 1];
    const b = buf[h + 2];
    const c = buf[h + 3];
    buf[h + 1] = buf[h + 2] = buf[h + 3] = undefined;
    this.head = (h + 4) & this.mask;
    this.size--;
    if (this.size === 0 && buf.length > retainSlotsMax) this.reset();
    if (tag >= 0) return { k: 'send', to: a as AnyRef, from: b as AnyRef | undefined, body: c, elements: tag };
    return { k: tag === -1 ? 'monitor' : 'demonitor', watcher: a as RefJSON, target: b as RefJSON, id: c as number };
  }

  private pushSlots(tag: number, a: unknown, b: unknown, c: unknown): void {
    if (this.size * 4 === this.buf.length) this.grow();
    const i = (this.head + this.size * 4) & this.mask;
    const buf = this.buf;
    buf[i] = tag;
    buf[i + 1] = a;
    buf[i + 2] = b;
    buf[i + 3] = c;
    this.size++;
  }

  private grow(): void {
    const cap = this.buf.length === 0 ? 64 : this.buf.length * 2;
    const next = new Array<unknown>(cap);
    for (let k = 0; k < this.size * 4; k++) next[k] = this.buf[(this.head + k) & this.mask];
    this.buf = next;
    this.head = 0;
    this.mask = cap - 1;
  }

  /** As the mailbox does (queue.ts): a drained queue gives a large buffer back. */
  private reset(): void {
    this.buf = [];
    this.head = 0;
    this.mask = -1;
  }
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
 * `items[start, end)` as batch items: each run of consecutive sends becomes one `actor.sends`
 * body; monitors stay in place between runs, so order holds. `checked` when the chunk is sends
 * only, every body was checked at dispatch (`WireBodies`) and every ref's names are valid
 * UTF-8: then the frame needs no scan of its own if `elements` (its exact value count) is small.
 */
export function toBatchItems(items: readonly Outbound[], start: number, end: number): { items: BatchItem[]; checked: boolean; elements: number } {
  const out: BatchItem[] = [];
  const count = { elements: 0, refsWellFormed: true };
  let monitors = false;
  let i = start;
  while (i < end) {
    const item = items[i] as Outbound;
    if (item.k === 'send') {
      const runEnd = sendRunEnd(items, i, end);
      out.push(batchItem(ActorSends, encodeSends(items, i, runEnd, count)));
      i = runEnd;
      continue;
    }
    monitors = true;
    const body = { watcher: item.watcher, target: item.target, id: item.id };
    out.push(item.k === 'monitor' ? batchItem(ActorMonitor, body) : batchItem(ActorDemonitor, body));
    i++;
  }
  return { items: out, checked: !monitors && out.length === 1 && count.refsWellFormed, elements: count.elements };
}

function sendRunEnd(items: readonly Outbound[], start: number, end: number): number {
  let i = start;
  while (i < end && (items[i] as Outbound).k === 'send') i++;
  return i;
}


/**
 * One `actor.sends` body for the sends `items[start, end)`: each distinct ref written once.
 * Refs are told apart by identity (a sender reuses its ref objects; two equal refs that are
 * different objects just take two entries), and the previous target is checked first, since
 * runs of messages to one actor are the common case. Adds the body's values, counted as the
 * scanner counts them, to `count.elements`.
 */
function encodeSends(
  items: readonly Outbound[],
  start: number,
  end: number,
  count: { elements: number; refsWellFormed: boolean },
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
      // { node, path }: the map, two keys, the node, the path array and its segments.
      elements += 5 + ref.path.length;
      if (!wellFormed(ref.node) || !ref.path.every(wellFormed)) count.refsWellFormed = false;
    }
    return i;
  };
  let lastTo: AnyRef | undefined;
  let lastToIndex = 0;
  for (let i = start, j = 0; i < end; i++, j += 3) {
    const item = items[i] as Extract<Outbound, { k: 'send' }>;
    if (item.to !== lastTo) {
      lastTo = item.to;
      lastToIndex = indexOf(item.to);
    }
    flat[j] = lastToIndex;
    flat[j + 1] = item.from === undefined ? null : indexOf(item.from);
    flat[j + 2] = item.body;
    elements += 2 + item.elements;
  }
  count.elements += elements;
  return { refs, items: flat };
}
