/**
 * Embedded stores: the five kinds as dot stores that share one causal context, which is how an
 * OR-map composes CRDTs (Almeida, Shoker, Baquero 2018, §5.4 "ORMap"; riak_dt_map's embedded
 * CRDTs). Every value of a map is a dot store under the map's context, so removing a key is one
 * delta — an empty store whose context names every dot the key's value holds — and it resets
 * the value everywhere it lands, while writes the remover had not seen survive (add wins).
 *
 * The two causal kinds embed as themselves: an ORSWOT is a `DotMap` of `DotSet`s, an MV register
 * a `DotFun` of values, a nested OR-map a `DotMap` of stores. The two non-causal kinds (LWW
 * register, PN-counter) embed through a **causal wrapper**: a `DotFun` whose entries are whole
 * register/counter states. A write joins the entries it sees, applies the operation, and stores
 * the result under a new dot that replaces the entries it saw (like an MV write); the value is
 * the join of the entries. Concurrent writes leave one entry each until the next write.
 * Consequence, shared with Almeida et al.'s causal counter: an increment concurrent with the
 * removal of its key brings the counter back as the incrementing replica saw it (its older
 * parts included); an LWW write concurrent with a removal brings back just the written value.
 *
 * Operations return **deltas**: `{ store, cc }` pairs of the same kind, applied by joining.
 * Multi-step operations (add several elements, update several keys) are folded step by step,
 * each step seeing the previous ones (new dots), and their deltas joined.
 */
import { ccJoin } from './causal.js';
import type { CausalContext, Dot } from './causal.js';
import { joinDotFun, joinDotMap, emptyDotMap, readDot, sortedKeys } from './dotstore.js';
import type { DotEntry, DotFun, DotSet } from './dotstore.js';
import { CrdtSchemaError } from './errors.js';
import { readHlcAt } from './hlc.js';
import type { Hlc } from './hlc.js';
import { kindOfKey } from './kind.js';
import type { AnyMapKind, Kind } from './kind.js';
import { crdtLimits, wireCountMax } from './limits.js';
import * as lww from './lww.js';
import type { Lww } from './lww.js';
import * as mv from './mvreg.js';
import * as pn from './pncounter.js';
import type { PnCounter } from './pncounter.js';
import * as set from './orswot.js';
import type { SetStore } from './orswot.js';
import type { Plain } from './plain.js';
import { valueProblem } from './plain.js';
import { readArray, readKey, reject } from './wire-read.js';

/** Who writes and when: the writer is `stamp.node`; LWW writes are stamped with `stamp`. */
export interface OpContext {
  readonly stamp: Hlc;
}

export type LwwEntry = NonNullable<Lww>;
// An interface, not an alias, because the type is recursive (maps of maps); it adds no members.
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface MapStore extends ReadonlyMap<string, Store> {}
export type Store = DotFun<LwwEntry> | DotFun<PnCounter> | DotFun<Plain> | SetStore | MapStore;

/** A causal state or delta: a store and the context it was made under. */
export interface Causal<S = Store> {
  readonly store: S;
  readonly cc: CausalContext;
}

const noEntries: DotFun<never> = [];

export function storeBottom(k: Kind): Store {
  return k.type === 'orswot' || k.type === 'ormap' ? emptyDotMap : noEntries;
}

export function storeIsBottom(s: Store): boolean {
  return Array.isArray(s) ? s.length === 0 : (s as ReadonlyMap<string, unknown>).size === 0;
}

const lwwJoin = (a: LwwEntry, b: LwwEntry): LwwEntry => lww.merge(a, b) as LwwEntry;

export function storeJoin(k: Kind, s1: Store, c1: CausalContext, s2: Store, c2: CausalContext): Store {
  switch (k.type) {
    case 'lww':
      return joinDotFun(s1 as DotFun<LwwEntry>, c1, s2 as DotFun<LwwEntry>, c2, lwwJoin);
    case 'pncounter':
      return joinDotFun(s1 as DotFun<PnCounter>, c1, s2 as DotFun<PnCounter>, c2, pn.merge);
    case 'mvreg':
      return mv.joinStore(s1 as DotFun<Plain>, c1, s2 as DotFun<Plain>, c2);
    case 'orswot':
      return set.joinStore(s1 as SetStore, c1, s2 as SetStore, c2);
    case 'ormap':
      return joinDotMap(s1 as MapStore, s2 as MapStore, (v1, v2, key) => {
        const inner = kindOfKey(k, key);
        // A key the schema does not know cannot be in a store that was decoded or built here.
        if (inner === undefined) throw new CrdtSchemaError(`ormap: key ${JSON.stringify(key)} is not in the schema`);
        const r = storeJoin(inner, v1 ?? storeBottom(inner), c1, v2 ?? storeBottom(inner), c2);
        return storeIsBottom(r) ? undefined : r;
      });
  }
}

export function causalJoin<S extends Store>(k: Kind, a: Causal<S>, b: Causal<S>): Causal<S> {
  if (a === b) return a;
  const store = storeJoin(k, a.store, a.cc, b.store, b.cc) as S;
  const cc = ccJoin(a.cc, b.cc);
  return store === a.store && cc === a.cc ? a : { store, cc };
}

/** Appends every dot held by `s` to `out`. */
export function storeDots(k: Kind, s: Store, out: Dot[]): Dot[] {
  if (Array.isArray(s)) {
    for (const e of s as DotFun<unknown>) out.push(e.dot);
    return out;
  }
  for (const [key, v] of s as ReadonlyMap<string, unknown>) {
    if (k.type === 'orswot') out.push(...(v as DotSet));
    else storeDots(kindOfKey(k as AnyMapKind, key) as Kind, v as Store, out);
  }
  return out;
}

function entriesEqual<V>(a: DotFun<V>, b: DotFun<V>, eq: (x: V, y: V) => boolean): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as DotEntry<V>;
    const y = b[i] as DotEntry<V>;
    if (x.dot.node !== y.dot.node || x.dot.counter !== y.dot.counter || !eq(x.value, y.value)) return false;
  }
  return true;
}

export function storeEquals(k: Kind, a: Store, b: Store): boolean {
  if (a === b) return true;
  switch (k.type) {
    case 'lww':
      return entriesEqual(a as DotFun<LwwEntry>, b as DotFun<LwwEntry>, lww.equals);
    case 'pncounter':
      return entriesEqual(a as DotFun<PnCounter>, b as DotFun<PnCounter>, pn.equals);
    case 'mvreg':
      return mv.storeEquals(a as DotFun<Plain>, b as DotFun<Plain>);
    case 'orswot':
      return set.storeEquals(a as SetStore, b as SetStore);
    case 'ormap': {
      const x = a as MapStore;
      const y = b as MapStore;
      if (x.size !== y.size) return false;
      for (const [key, v] of x) {
        const w = y.get(key);
        if (w === undefined || !storeEquals(kindOfKey(k, key) as Kind, v, w)) return false;
      }
      return true;
    }
  }
}

function foldLww(s: DotFun<LwwEntry>): Lww {
  let acc: Lww = undefined;
  for (const e of s) acc = lww.merge(acc, e.value);
  return acc;
}

function foldPn(s: DotFun<PnCounter>): PnCounter {
  let acc = pn.empty;
  for (const e of s) acc = pn.merge(acc, e.value);
  return acc;
}

/** The plain (API) value of a store. */
export function storeValue(k: Kind, s: Store): unknown {
  switch (k.type) {
    case 'lww':
      return lww.value(foldLww(s as DotFun<LwwEntry>));
    case 'pncounter':
      return pn.value(foldPn(s as DotFun<PnCounter>));
    case 'mvreg':
      return mv.storeValues(s as DotFun<Plain>);
    case 'orswot':
      return sortedKeys(s as SetStore);
    case 'ormap': {
      const m = s as MapStore;
      return Object.fromEntries(sortedKeys(m).map((key) => [key, storeValue(kindOfKey(k, key) as Kind, m.get(key) as Store)]));
    }
  }
}

/** Encoding of a store (see each kind's module; wrappers are `[node, counter, …state]`). */
export function storeToWire(k: Kind, s: Store): unknown {
  switch (k.type) {
    case 'lww':
      return (s as DotFun<LwwEntry>).map((e) => [e.dot.node, e.dot.counter, ...lww.toWire(e.value)]);
    case 'pncounter':
      return (s as DotFun<PnCounter>).map((e) => [e.dot.node, e.dot.counter, pn.toWire(e.value)]);
    case 'mvreg':
      return mv.storeToWire(s as DotFun<Plain>);
    case 'orswot':
      return set.storeToWire(s as SetStore);
    case 'ormap': {
      const m = s as MapStore;
      return sortedKeys(m).map((key) => [key, storeToWire(kindOfKey(k, key) as Kind, m.get(key) as Store)]);
    }
  }
}

/** Reads a store of kind `k` whose dots must be in `cc`; throws the decoder's rejection. @internal */
export function readStore(k: Kind, x: unknown, path: string, cc: CausalContext): Store {
  switch (k.type) {
    case 'lww':
      return readWrapped(x, path, cc, 6, (e, at) => {
        const stamp = readHlcAt(e, 2, at);
        const vp = valueProblem(e[5], k.check);
        if (vp !== undefined) reject(at, vp);
        return { stamp, value: e[5] as Plain };
      });
    case 'pncounter':
      return readWrapped(x, path, cc, 3, (e, at) => {
        const c = pn.readPnCounter(e[2], at);
        if (c.size === 0) reject(at, 'empty counter entry');
        return c;
      });
    case 'mvreg':
      return mv.readStore(x, path, cc, k.check);
    case 'orswot':
      return set.readStore(x, path, cc);
    case 'ormap':
      return readMapStore(k, x, path, cc);
  }
}

function readWrapped<V>(x: unknown, path: string, cc: CausalContext, width: number, readValue: (e: readonly unknown[], at: string) => V): DotFun<V> {
  const items = readArray(x, path, wireCountMax(crdtLimits.nodesMax));
  const out: DotEntry<V>[] = [];
  for (let i = 0; i < items.length; i++) {
    const at = `${path}[${i}]`;
    const e = readArray(items[i], at, width);
    if (e.length !== width) reject(at, `expected ${width} items`);
    const dot = readDot(e, 0, at, cc, out[out.length - 1]?.dot);
    out.push({ dot, value: readValue(e, at) });
  }
  return out;
}

function readMapStore(k: AnyMapKind, x: unknown, path: string, cc: CausalContext): MapStore {
  const items = readArray(x, path, wireCountMax(crdtLimits.mapKeysMax));
  const out = new Map<string, Store>();
  let prev: string | undefined;
  for (let i = 0; i < items.length; i++) {
    const e = readArray(items[i], `${path}[${i}]`, 2);
    const key = readKey(e[0], `${path}[${i}]`);
    if (prev !== undefined && !(prev < key)) reject(`${path}[${i}]`, 'keys are not in strictly increasing order');
    prev = key;
    const inner = kindOfKey(k, key);
    if (inner === undefined) reject(`${path}[${i}]`, `key ${JSON.stringify(key)} is not in the schema`);
    const store = readStore(inner, e[1], `${path}.${key}`, cc);
    if (storeIsBottom(store)) reject(`${path}.${key}`, 'empty value');
    out.set(key, store);
  }
  return out;
}
