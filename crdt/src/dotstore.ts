/**
 * Dot stores: the three shapes the state of a causal CRDT takes, and their joins (Almeida,
 * Shoker, Baquero 2018, §5.1). A causal CRDT's state is a pair (store, context) where every dot
 * in the store is in the context.
 *
 * - `DotSet`: a set of dots (an ORSWOT element's "add" events);
 * - `DotFun<V>`: dot → value (an MV register's concurrent writes);
 * - `DotMap<V>`: key → a nested dot store (ORSWOT elements, OR-map keys), where a key whose
 *   store becomes empty disappears.
 *
 * The join of (s1, c1) and (s2, c2) keeps a dot if both stores hold it, or if one holds it and
 * the other has never seen it (it is not in the other's context). A dot that one side has seen
 * but no longer holds was overwritten or removed there, and stays gone. That single rule gives
 * observed-remove, add-wins and multi-value semantics without tombstones: the context remembers
 * what was removed, compactly.
 *
 * Invariants: `DotSet` and `DotFun` are arrays sorted by `compareDots`, without duplicates;
 * `DotMap` holds no empty store. Joins return their first store argument itself when the result
 * equals it, so "nothing changed" propagates by identity up to the record.
 */
import { ccHas } from './causal.js';
import type { CausalContext, Dot } from './causal.js';
import { compareDots } from './causal.js';
import { readInt, readNode, reject } from './wire-read.js';

export type DotSet = readonly Dot[];

export interface DotEntry<V> {
  readonly dot: Dot;
  readonly value: V;
}

export type DotFun<V> = readonly DotEntry<V>[];

export type DotMap<V> = ReadonlyMap<string, V>;

export const emptyDotMap: DotMap<never> = new Map<string, never>();

function sameItems<T>(out: readonly T[], s: readonly T[]): boolean {
  if (out.length !== s.length) return false;
  for (let i = 0; i < out.length; i++) if (out[i] !== s[i]) return false;
  return true;
}

/** Join of two dot sets under their contexts (see the header). */
export function joinDotSet(s1: DotSet, c1: CausalContext, s2: DotSet, c2: CausalContext): DotSet {
  if (s1 === s2) return s1;
  const out: Dot[] = [];
  let i = 0;
  let j = 0;
  while (i < s1.length || j < s2.length) {
    const a = s1[i];
    const b = s2[j];
    const cmp = a === undefined ? 1 : b === undefined ? -1 : compareDots(a, b);
    if (cmp === 0) {
      out.push(a as Dot);
      i++;
      j++;
    } else if (cmp < 0) {
      if (!ccHas(c2, (a as Dot).node, (a as Dot).counter)) out.push(a as Dot);
      i++;
    } else {
      if (!ccHas(c1, (b as Dot).node, (b as Dot).counter)) out.push(b as Dot);
      j++;
    }
  }
  return sameItems(out, s1) ? s1 : out;
}

/**
 * Join of two dot functions. Both sides holding one dot is the normal case of a value minted
 * once; `joinValue` still joins the two values, so that a peer that (wrongly) sent two values
 * for one dot cannot make replicas disagree.
 */
export function joinDotFun<V>(f1: DotFun<V>, c1: CausalContext, f2: DotFun<V>, c2: CausalContext, joinValue: (a: V, b: V) => V): DotFun<V> {
  if (f1 === f2) return f1;
  const out: DotEntry<V>[] = [];
  let i = 0;
  let j = 0;
  while (i < f1.length || j < f2.length) {
    const a = f1[i];
    const b = f2[j];
    const cmp = a === undefined ? 1 : b === undefined ? -1 : compareDots(a.dot, b.dot);
    if (cmp === 0) {
      const x = a as DotEntry<V>;
      const y = b as DotEntry<V>;
      const v = joinValue(x.value, y.value);
      out.push(v === x.value ? x : { dot: x.dot, value: v });
      i++;
      j++;
    } else if (cmp < 0) {
      if (!ccHas(c2, (a as DotEntry<V>).dot.node, (a as DotEntry<V>).dot.counter)) out.push(a as DotEntry<V>);
      i++;
    } else {
      if (!ccHas(c1, (b as DotEntry<V>).dot.node, (b as DotEntry<V>).dot.counter)) out.push(b as DotEntry<V>);
      j++;
    }
  }
  return sameItems(out, f1) ? f1 : out;
}

/**
 * Join of two dot maps: each key's stores are joined by `joinInner(v1, v2)` (either may be
 * missing, meaning the empty store; `key` says whose stores they are); `joinInner` returns undefined for an empty result, and the
 * key is dropped. Copy-on-write: `m1` itself comes back when no key changed.
 */
export function joinDotMap<V>(m1: DotMap<V>, m2: DotMap<V>, joinInner: (v1: V | undefined, v2: V | undefined, key: string) => V | undefined): DotMap<V> {
  if (m1 === m2) return m1;
  let out: Map<string, V> | undefined;
  for (const [k, v1] of m1) {
    const v = joinInner(v1, m2.get(k), k);
    if (v === v1) continue;
    out ??= new Map(m1);
    if (v === undefined) out.delete(k);
    else out.set(k, v);
  }
  for (const [k, v2] of m2) {
    if (m1.has(k)) continue;
    const v = joinInner(undefined, v2, k);
    if (v === undefined) continue;
    out ??= new Map(m1);
    out.set(k, v);
  }
  return out ?? m1;
}

/** Keys of a dot map in encoding order. */
export function sortedKeys(m: ReadonlyMap<string, unknown>): string[] {
  return [...m.keys()].sort();
}

/** `[node, counter, node, counter, …]`. */
export function dotsToFlat(dots: DotSet, out: (string | number)[] = []): (string | number)[] {
  for (const d of dots) out.push(d.node, d.counter);
  return out;
}

/**
 * Reads flat dots from `items[from…]`: strictly increasing, each in `cc` (a store may only hold
 * dots its context has seen), at most `countMax`. Throws the decoder's rejection.
 * @internal
 */
export function readFlatDots(items: readonly unknown[], from: number, path: string, cc: CausalContext, countMax: number): Dot[] {
  if ((items.length - from) % 2 !== 0) reject(path, 'dots are not (node, counter) pairs');
  if ((items.length - from) / 2 > countMax) reject(path, `more than ${countMax} dots`);
  const out: Dot[] = [];
  for (let i = from; i < items.length; i += 2) out.push(readDot(items, i, path, cc, out[out.length - 1]));
  return out;
}

/** Reads the dot at `items[at]`, `items[at + 1]`: in `cc`, and after `prev` if given. Throws the decoder's rejection. @internal */
export function readDot(items: readonly unknown[], at: number, path: string, cc: CausalContext, prev: Dot | undefined): Dot {
  const dot = { node: readNode(items[at], path), counter: readInt(items[at + 1], path, 1, Number.MAX_SAFE_INTEGER) };
  if (prev !== undefined && compareDots(prev, dot) >= 0) reject(path, 'dots are not in strictly increasing order');
  if (!ccHas(cc, dot.node, dot.counter)) reject(path, `dot ${dot.node}:${dot.counter} is not in the causal context`);
  return dot;
}
