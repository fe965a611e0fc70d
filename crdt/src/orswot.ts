/**
 * ORSWOT: the add-wins observed-remove set without tombstones (Bieniusa, Zawirski, Preguiça,
 * Shapiro, Baquero, Balegas, Duarte, "An optimized conflict-free replicated set", 2012;
 * riak_dt_orswot), in its delta-state form (Almeida, Shoker, Baquero 2018, §5.2 "AWORSet").
 *
 * State: element → the dots of the adds that are still live (a `DotMap` of `DotSet`s), plus the
 * causal context of every add and remove seen. An element is in the set iff it has a live dot.
 *
 * - `add(e)` by `node`: mints dot d. Delta = `({ e: {d} }, {d} ∪ dots(e))`: the new add, and a
 *   context that also covers the element's older dots, so the delta replaces them (each element
 *   keeps about one dot per concurrent writer).
 * - `remove(e)`: delta = `({}, dots(e))` — an empty store whose context names exactly the add
 *   dots this replica observed. **How delta removal works**: merging it anywhere drops those dots
 *   (the receiver's store holds them, the delta's context has seen them, the delta's store does
 *   not), so the element disappears unless some add that the remover did not observe is still
 *   live: add wins over a concurrent remove. If the remove delta arrives *before* the add it
 *   cancels, its dots wait in the receiver's context (as cloud dots), and the late add delta is
 *   then ignored for the same reason. No tombstone is ever stored: the context is the memory of
 *   removals, and it compacts into a version vector once the gaps fill.
 *
 * Invariants: every live dot is in the context; no element has an empty dot set; elements are
 * well-formed strings of at most `keyBytesMax` bytes; at most `setElementsMax` elements are
 * created by `add` (merges may pass it, see limits.ts).
 *
 * Encoding: `[context, [[element, node, counter, node, counter, …], …]]`, elements sorted.
 */
import { ccEmpty, ccEquals, ccFromDots, ccJoin, ccNext, ccToWire, readCausalContext } from './causal.js';
import type { CausalContext, CausalContextWire, Dot } from './causal.js';
import { CrdtLimitError, CrdtValueError } from './errors.js';
import type { WireResult } from './errors.js';
import { dotsToFlat, emptyDotMap, joinDotMap, joinDotSet, readFlatDots, sortedKeys } from './dotstore.js';
import type { DotMap, DotSet } from './dotstore.js';
import { crdtLimits, wireCountMax } from './limits.js';
import { keyProblem } from './text.js';
import { decoding, readArray, readKey, reject } from './wire-read.js';

export type SetStore = DotMap<DotSet>;

export interface Orswot {
  readonly store: SetStore;
  readonly cc: CausalContext;
}

export interface OrswotDelta {
  readonly state: Orswot;
  readonly delta: Orswot;
}

export const empty: Orswot = Object.freeze({ store: emptyDotMap, cc: ccEmpty });

const noDots: DotSet = [];

/** Join of two element stores under their contexts (also used for sets inside an OR-map). */
export function joinStore(m1: SetStore, c1: CausalContext, m2: SetStore, c2: CausalContext): SetStore {
  return joinDotMap(m1, m2, (v1, v2) => {
    const r = joinDotSet(v1 ?? noDots, c1, v2 ?? noDots, c2);
    return r.length === 0 ? undefined : r;
  });
}

/** The delta of `add(elem)` by `node` on a store with context `cc`. */
export function addDelta(store: SetStore, cc: CausalContext, elem: string, node: string): Orswot {
  const kp = keyProblem(elem);
  if (kp !== undefined) throw new CrdtValueError(`orswot: element: ${kp}`);
  const old = store.get(elem);
  if (old === undefined && store.size >= crdtLimits.setElementsMax) {
    throw new CrdtLimitError(`orswot: set already holds ${crdtLimits.setElementsMax} elements`);
  }
  const dot = ccNext(cc, node);
  return { store: new Map([[elem, [dot]]]), cc: ccFromDots(old === undefined ? [dot] : [...old, dot]) };
}

/** The delta of `remove(elem)`: no store, a context naming the element's observed dots. */
export function removeDelta(store: SetStore, elem: string): Orswot {
  const old = store.get(elem);
  return old === undefined ? empty : { store: emptyDotMap, cc: ccFromDots(old) };
}

/** Every live dot of a store (what removing all of it must name). */
export function storeDots(store: SetStore): DotSet {
  const out: Dot[] = [];
  for (const dots of store.values()) out.push(...dots);
  return out;
}

export function storeEquals(a: SetStore, b: SetStore): boolean {
  if (a === b) return true;
  if (a.size !== b.size) return false;
  for (const [e, x] of a) {
    const y = b.get(e);
    if (y === undefined || x.length !== y.length) return false;
    for (let i = 0; i < x.length; i++) if (x[i]?.node !== y[i]?.node || x[i]?.counter !== y[i]?.counter) return false;
  }
  return true;
}

export type SetStoreWire = (string | number)[][];

export function storeToWire(store: SetStore): SetStoreWire {
  return sortedKeys(store).map((e) => dotsToFlat(store.get(e) as DotSet, [e]));
}

/** Reads element entries (sorted, dots in `cc`); throws the decoder's rejection. @internal */
export function readStore(x: unknown, path: string, cc: CausalContext): SetStore {
  const dotsMax = wireCountMax(crdtLimits.nodesMax);
  const items = readArray(x, path, wireCountMax(crdtLimits.setElementsMax));
  const out = new Map<string, DotSet>();
  let prev: string | undefined;
  for (let i = 0; i < items.length; i++) {
    const at = `${path}[${i}]`;
    const e = readArray(items[i], at, 1 + 2 * dotsMax);
    const elem = readKey(e[0], at);
    if (prev !== undefined && !(prev < elem)) reject(at, 'elements are not in strictly increasing order');
    prev = elem;
    const dots = readFlatDots(e, 1, at, cc, dotsMax);
    if (dots.length === 0) reject(at, 'element without dots');
    out.set(elem, dots);
  }
  return out;
}

export function add(state: Orswot, elem: string, node: string): OrswotDelta {
  const delta = addDelta(state.store, state.cc, elem, node);
  return { state: merge(state, delta), delta };
}

export function remove(state: Orswot, elem: string): OrswotDelta {
  const delta = removeDelta(state.store, elem);
  return { state: merge(state, delta), delta };
}

export function merge(a: Orswot, b: Orswot): Orswot {
  if (a === b) return a;
  const store = joinStore(a.store, a.cc, b.store, b.cc);
  const cc = ccJoin(a.cc, b.cc);
  return store === a.store && cc === a.cc ? a : { store, cc };
}

/** The elements, sorted. */
export function value(state: Orswot): string[] {
  return sortedKeys(state.store);
}

export function has(state: Orswot, elem: string): boolean {
  return state.store.has(elem);
}

export function size(state: Orswot): number {
  return state.store.size;
}

export function equals(a: Orswot, b: Orswot): boolean {
  return a === b || (storeEquals(a.store, b.store) && ccEquals(a.cc, b.cc));
}

export type OrswotWire = [CausalContextWire, SetStoreWire];

export function toWire(state: Orswot): OrswotWire {
  return [ccToWire(state.cc), storeToWire(state.store)];
}

/** @internal Throws the decoder's rejection; use inside `decoding`. */
export function readOrswot(x: unknown, path: string): Orswot {
  const items = readArray(x, path, 2);
  const cc = readCausalContext(items[0], `${path}.cc`);
  return { store: readStore(items[1], `${path}.elements`, cc), cc };
}

export function fromWire(x: unknown): WireResult<Orswot> {
  return decoding(() => readOrswot(x, ''));
}
