/**
 * OR-map: a map whose keys are add-wins (a key is present while its value holds a live dot)
 * and whose values are CRDTs of a kind fixed per key by the schema (kind.ts) — Almeida, Shoker,
 * Baquero 2018, §5.4; riak_dt_map; Akka's ORMap. Values are embedded dot stores under the map's
 * one causal context (store.ts), so:
 *
 * - `update(key, op)` applies the value's operation; its delta is the map delta holding only
 *   that key's value delta (**nested deltas**: a delta of a map of sets adding one element is
 *   `({ key: { elem: {dot} } }, {dot} ∪ …)`), and a key springs into existence with its first
 *   live dot;
 * - `remove(key)` is `({}, dots of the key's value)`: it resets the value on every replica that
 *   merges it, and a concurrent update (dots the remover had not seen) survives — add wins;
 * - a key whose value loses its last dot (its set emptied, its map emptied) disappears.
 *
 * The state carries its kind (for merging and reading), which is never encoded: the schema is
 * the reader's. Encoding: `[context, [[key, store], …]]`, keys sorted; see store.ts per kind.
 */
import { ccEmpty, ccEquals, ccFromDots, ccJoin, ccToWire, readCausalContext } from './causal.js';
import type { CausalContext, CausalContextWire } from './causal.js';
import { emptyDotMap } from './dotstore.js';
import { CrdtSchemaError, CrdtValueError } from './errors.js';
import type { WireResult } from './errors.js';
import { hlcProblem } from './hlc.js';
import { checkKind, kindOfKey } from './kind.js';
import type { AnyMapKind, Kind, MapKind, OpOf, PlainOf } from './kind.js';
import { storeApply } from './ops.js';
import { readStore, storeDots, storeEquals, storeJoin, storeToWire, storeValue } from './store.js';
import type { MapStore, OpContext } from './store.js';
import { decoding, readArray } from './wire-read.js';

export interface OrMap<K extends AnyMapKind = AnyMapKind> {
  readonly kind: K;
  readonly store: MapStore;
  readonly cc: CausalContext;
}

export interface OrMapDelta<K extends AnyMapKind = AnyMapKind> {
  readonly state: OrMap<K>;
  readonly delta: OrMap<K>;
}

const checked = new WeakSet<Kind>();

function ensureKind(k: AnyMapKind): void {
  if (checked.has(k)) return;
  checkKind(k, 'ormap');
  checked.add(k);
}

export function empty<K extends AnyMapKind>(kind: K): OrMap<K> {
  ensureKind(kind);
  return { kind, store: emptyDotMap, cc: ccEmpty };
}

function checkCtx(ctx: OpContext): void {
  const p = hlcProblem(ctx.stamp);
  if (p !== undefined) throw new CrdtValueError(`ormap: ${p}`);
}

/** Applies a map operation `{ update?: { key: op }, remove?: [key] }`. */
export function apply<K extends AnyMapKind>(state: OrMap<K>, op: OpOf<K>, ctx: OpContext): OrMapDelta<K> {
  checkCtx(ctx);
  const d = storeApply(state.kind, state.store, state.cc, op, ctx, 'ormap');
  const delta = { kind: state.kind, store: d.store as MapStore, cc: d.cc };
  return { state: merge(state, delta), delta };
}

/** Applies the operation of the key's kind to the value at `key`. */
export function update<V extends Kind>(state: OrMap<MapKind<V>>, key: string, op: OpOf<V>, ctx: OpContext): OrMapDelta<MapKind<V>> {
  return apply(state, { update: { [key]: op } } as OpOf<MapKind<V>>, ctx);
}

/** Removes `key` (observed-remove: resets the value as this replica sees it). */
export function remove<K extends AnyMapKind>(state: OrMap<K>, key: string): OrMapDelta<K> {
  const v = state.store.get(key);
  const k = kindOfKey(state.kind, key);
  if (v === undefined || k === undefined) return { state, delta: { kind: state.kind, store: emptyDotMap, cc: ccEmpty } };
  const delta = { kind: state.kind, store: emptyDotMap, cc: ccFromDots(storeDots(k, v, [])) };
  return { state: merge(state, delta), delta };
}

export function merge<K extends AnyMapKind>(a: OrMap<K>, b: OrMap<K>): OrMap<K> {
  if (a === b) return a;
  if (a.kind !== b.kind) throw new CrdtSchemaError('ormap: merging maps of different kinds');
  const store = storeJoin(a.kind, a.store, a.cc, b.store, b.cc) as MapStore;
  const cc = ccJoin(a.cc, b.cc);
  return store === a.store && cc === a.cc ? a : { kind: a.kind, store, cc };
}

/** The map as a plain object, keys sorted. */
export function value<K extends AnyMapKind>(state: OrMap<K>): PlainOf<K> {
  return storeValue(state.kind, state.store) as PlainOf<K>;
}

/** The plain value at `key`, or undefined when the key is absent. */
export function get(state: OrMap, key: string): unknown {
  const v = state.store.get(key);
  const k = kindOfKey(state.kind, key);
  return v === undefined || k === undefined ? undefined : storeValue(k, v);
}

export function keys(state: OrMap): string[] {
  return [...state.store.keys()].sort();
}

export function equals(a: OrMap, b: OrMap): boolean {
  return a === b || (a.kind === b.kind && storeEquals(a.kind, a.store, b.store) && ccEquals(a.cc, b.cc));
}

export type OrMapWire = [CausalContextWire, unknown];

export function toWire(state: OrMap): OrMapWire {
  return [ccToWire(state.cc), storeToWire(state.kind, state.store)];
}

/** @internal Throws the decoder's rejection; use inside `decoding`. */
export function readOrMap<K extends AnyMapKind>(kind: K, x: unknown, path: string): OrMap<K> {
  const items = readArray(x, path, 2);
  const cc = readCausalContext(items[0], `${path}.cc`);
  return { kind, store: readStore(kind, items[1], `${path}.entries`, cc) as MapStore, cc };
}

export function fromWire<K extends AnyMapKind>(kind: K, x: unknown): WireResult<OrMap<K>> {
  ensureKind(kind);
  return decoding(() => readOrMap(kind, x, ''));
}

