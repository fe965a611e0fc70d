/**
 * Multi-value register with dots (Almeida, Shoker, Baquero 2018, §5.3 "MVRegister"; the same
 * idea as Preguiça et al.'s dotted version vectors, "Dotted Version Vectors: Logical Clocks for
 * Optimistic Replication", 2010, and riak's sibling values).
 *
 * State: a dot function (dot → value) plus a causal context. A write by `node` mints a new dot
 * and overwrites every value it has seen: its delta is `({ newDot: value }, { newDot } ∪ dots
 * of all current values)`. Concurrent writes mint dots that neither side has seen, so the join
 * (dotstore.ts) keeps both; the next write by anyone who saw both replaces them.
 *
 * `value` lists the current values in dot order without duplicates (two concurrent writes of an
 * equal value show once). At most one value per writer survives a write, so the number of
 * values is bounded by the number of writers.
 *
 * Encoding: `[context, [[node, counter, value], …]]` with entries in dot order.
 */
import { ccEmpty, ccFromDots, ccJoin, ccNext, readCausalContext, ccToWire, ccEquals } from './causal.js';
import type { CausalContext, CausalContextWire, Dot } from './causal.js';
import { CrdtValueError } from './errors.js';
import type { WireResult } from './errors.js';
import { joinDotFun, readDot } from './dotstore.js';
import type { DotEntry, DotFun } from './dotstore.js';
import { crdtLimits, wireCountMax } from './limits.js';
import { plainCompare, plainEquals, valueProblem } from './plain.js';
import type { Plain, ValueCheck } from './plain.js';
import { decoding, readArray, reject } from './wire-read.js';

export interface MvReg<T extends Plain = Plain> {
  readonly store: DotFun<T>;
  readonly cc: CausalContext;
}

export interface MvDelta<T extends Plain = Plain> {
  readonly state: MvReg<T>;
  readonly delta: MvReg<T>;
}

export const empty: MvReg<never> = Object.freeze({ store: [], cc: ccEmpty });

const pickMax = <T extends Plain>(a: T, b: T): T => (plainCompare(a, b) >= 0 ? a : b);

/** Join of two MV stores under their contexts (also used for MV values inside an OR-map). */
export function joinStore<T extends Plain>(f1: DotFun<T>, c1: CausalContext, f2: DotFun<T>, c2: CausalContext): DotFun<T> {
  return joinDotFun(f1, c1, f2, c2, pickMax);
}

/** The delta of a write of `value` by `node` on a store with context `cc`. */
export function writeDelta<T extends Plain>(store: DotFun<T>, cc: CausalContext, value: T, node: string, check: ValueCheck): MvReg<T> {
  const vp = valueProblem(value, check);
  if (vp !== undefined) throw new CrdtValueError(`mvreg: ${vp}`);
  const dot = ccNext(cc, node);
  const seen: Dot[] = store.map((e) => e.dot);
  seen.push(dot);
  return { store: [{ dot, value }], cc: ccFromDots(seen) };
}

/** Current values of a store, in dot order, without duplicates. */
export function storeValues<T extends Plain>(store: DotFun<T>): T[] {
  const out: T[] = [];
  for (const e of store) if (!out.some((v) => plainEquals(v, e.value))) out.push(e.value);
  return out;
}

export function storeEquals<T extends Plain>(a: DotFun<T>, b: DotFun<T>): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as DotEntry<T>;
    const y = b[i] as DotEntry<T>;
    if (x.dot.node !== y.dot.node || x.dot.counter !== y.dot.counter || !plainEquals(x.value, y.value)) return false;
  }
  return true;
}

export type MvStoreWire = [string, number, Plain][];

export function storeToWire<T extends Plain>(store: DotFun<T>): MvStoreWire {
  return store.map((e) => [e.dot.node, e.dot.counter, e.value]);
}

/** Reads MV store entries (dots in `cc`, in order); throws the decoder's rejection. @internal */
export function readStore(x: unknown, path: string, cc: CausalContext, check: ValueCheck): DotFun<Plain> {
  const items = readArray(x, path, wireCountMax(crdtLimits.nodesMax));
  const out: DotEntry<Plain>[] = [];
  for (let i = 0; i < items.length; i++) {
    const at = `${path}[${i}]`;
    const e = readArray(items[i], at, 3);
    const dot = readDot(e, 0, at, cc, out[out.length - 1]?.dot);
    const vp = valueProblem(e[2], check);
    if (vp !== undefined) reject(at, vp);
    out.push({ dot, value: e[2] as Plain });
  }
  return out;
}

/** Writes `value` on behalf of `node`, replacing every value this state has seen. */
export function set<T extends Plain>(state: MvReg<T>, value: T, node: string, check: ValueCheck = 'plain'): MvDelta<T> {
  const delta = writeDelta(state.store, state.cc, value, node, check);
  return { state: merge(state, delta), delta };
}

export function merge<T extends Plain>(a: MvReg<T>, b: MvReg<T>): MvReg<T> {
  if (a === b) return a;
  const store = joinStore(a.store, a.cc, b.store, b.cc);
  const cc = ccJoin(a.cc, b.cc);
  return store === a.store && cc === a.cc ? a : { store, cc };
}

export function value<T extends Plain>(state: MvReg<T>): T[] {
  return storeValues(state.store);
}

export function equals<T extends Plain>(a: MvReg<T>, b: MvReg<T>): boolean {
  return a === b || (storeEquals(a.store, b.store) && ccEquals(a.cc, b.cc));
}

export type MvRegWire = [CausalContextWire, MvStoreWire];

export function toWire<T extends Plain>(state: MvReg<T>): MvRegWire {
  return [ccToWire(state.cc), storeToWire(state.store)];
}

/** @internal Throws the decoder's rejection; use inside `decoding`. */
export function readMvReg(x: unknown, path: string, check: ValueCheck): MvReg {
  const items = readArray(x, path, 2);
  const cc = readCausalContext(items[0], `${path}.cc`);
  return { store: readStore(items[1], `${path}.values`, cc, check), cc };
}

export function fromWire(x: unknown, check: ValueCheck = 'plain'): WireResult<MvReg> {
  return decoding(() => readMvReg(x, '', check));
}
