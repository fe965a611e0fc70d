/**
 * Operations on embedded stores (store.ts): each validates its operation object — which may
 * come from an API body, so every shape is checked and a bad one is a `CrdtValueError` naming
 * its path — and returns the **delta** `{ store, cc }` that, joined into the state, performs it.
 *
 * - LWW / PN-counter (causal wrapper): join the entries seen, apply the operation, store the
 *   result under a new dot whose delta context also names the entries it replaces.
 * - MV register: mvreg.ts `writeDelta`. ORSWOT: orswot.ts `addDelta` / `removeDelta`.
 * - OR-map: `remove` names every dot of the key's value; `update` recurses into the key's kind.
 *
 * Operations with several steps fold them (`foldSteps`): each step sees the state after the
 * previous ones, so it mints a fresh dot, and the steps' deltas are joined into one.
 */
import { ccEmpty, ccFromDots, ccNext } from './causal.js';
import type { CausalContext } from './causal.js';
import { emptyDotMap } from './dotstore.js';
import type { DotFun } from './dotstore.js';
import { CrdtLimitError, CrdtSchemaError, CrdtValueError } from './errors.js';
import { kindOfKey } from './kind.js';
import type { AnyMapKind, Kind } from './kind.js';
import { crdtLimits } from './limits.js';
import * as lww from './lww.js';
import type { Lww } from './lww.js';
import * as mv from './mvreg.js';
import * as pn from './pncounter.js';
import type { PnCounter } from './pncounter.js';
import * as set from './orswot.js';
import type { SetStore } from './orswot.js';
import type { Plain } from './plain.js';
import { causalJoin, storeBottom, storeDots, storeIsBottom } from './store.js';
import type { Causal, LwwEntry, MapStore, OpContext, Store } from './store.js';
import { keyProblem } from './text.js';

const bottomDelta = (k: Kind): Causal => ({ store: storeBottom(k), cc: ccEmpty });

function isObject(x: unknown): x is Readonly<Record<string, unknown>> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/** `op.set`, which must be present. */
export function readSetOp(op: unknown, path: string): Plain {
  if (!isObject(op) || !Object.hasOwn(op, 'set')) throw new CrdtValueError(`${path}: expected { set: value }`);
  return op['set'] as Plain;
}

/** `op.inc`, a safe integer. */
export function readIncOp(op: unknown, path: string): number {
  if (!isObject(op) || !Number.isSafeInteger(op['inc'])) throw new CrdtValueError(`${path}: expected { inc: integer }`);
  return op['inc'] as number;
}

/** A list of keys at `op[name]` (absent = none), without duplicates. */
function readKeys(op: Readonly<Record<string, unknown>>, name: string, path: string): readonly string[] {
  const x = op[name];
  if (x === undefined) return [];
  if (!Array.isArray(x)) throw new CrdtValueError(`${path}.${name}: expected an array of strings`);
  for (const key of x) {
    const p = keyProblem(key);
    if (p !== undefined) throw new CrdtValueError(`${path}.${name}: ${p}`);
  }
  if (new Set(x).size !== x.length) throw new CrdtValueError(`${path}.${name}: duplicate keys`);
  return x as string[];
}

/** Folds steps into one delta (see the header). */
export function foldSteps(k: Kind, store: Store, cc: CausalContext, steps: readonly ((s: Store, c: CausalContext) => Causal)[]): Causal {
  let cur: Causal = { store, cc };
  let delta = bottomDelta(k);
  for (const step of steps) {
    const d = step(cur.store, cur.cc);
    cur = causalJoin(k, cur, d);
    delta = causalJoin(k, delta, d);
  }
  return delta;
}

/** A wrapped write: one new entry holding `value`, replacing every entry seen. */
function replaceEntries<V>(entries: DotFun<V>, cc: CausalContext, value: V, node: string): Causal<DotFun<V>> {
  const dot = ccNext(cc, node);
  const seen = entries.map((e) => e.dot);
  seen.push(dot);
  return { store: [{ dot, value }], cc: ccFromDots(seen) };
}

/** The delta of `op` on store `s` of kind `k` under context `cc`. */
export function storeApply(k: Kind, s: Store, cc: CausalContext, op: unknown, ctx: OpContext, path: string): Causal {
  const node = ctx.stamp.node;
  switch (k.type) {
    case 'lww': {
      const entries = s as DotFun<LwwEntry>;
      let current: Lww = undefined;
      for (const e of entries) current = lww.merge(current, e.value);
      const next = lww.set(current, readSetOp(op, path), ctx.stamp, k.check).state as LwwEntry;
      return replaceEntries(entries, cc, next, node);
    }
    case 'pncounter': {
      const amount = readIncOp(op, path);
      if (amount === 0) return bottomDelta(k);
      const entries = s as DotFun<PnCounter>;
      let current = pn.empty;
      for (const e of entries) current = pn.merge(current, e.value);
      return replaceEntries(entries, cc, pn.increment(current, node, amount).state, node);
    }
    case 'mvreg':
      return mv.writeDelta(s as DotFun<Plain>, cc, readSetOp(op, path), node, k.check);
    case 'orswot':
      return applySet(s as SetStore, cc, op, node, path);
    case 'ormap':
      return applyMap(k, s as MapStore, cc, op, ctx, path);
  }
}

function applySet(s: SetStore, cc: CausalContext, op: unknown, node: string, path: string): Causal {
  if (!isObject(op)) throw new CrdtValueError(`${path}: expected { add?: [...], remove?: [...] }`);
  const adds = readKeys(op, 'add', path);
  const removes = readKeys(op, 'remove', path);
  if (removes.some((e) => adds.includes(e))) throw new CrdtValueError(`${path}: an element is both added and removed`);
  const steps = [
    ...removes.map((e) => (st: Store) => set.removeDelta(st as SetStore, e)),
    ...adds.map((e) => (st: Store, c: CausalContext) => set.addDelta(st as SetStore, c, e, node)),
  ];
  return foldSteps({ type: 'orswot' }, s, cc, steps);
}

function applyMap(k: AnyMapKind, s: MapStore, cc: CausalContext, op: unknown, ctx: OpContext, path: string): Causal {
  if (!isObject(op)) throw new CrdtValueError(`${path}: expected { update?: {...}, remove?: [...] }`);
  const removes = readKeys(op, 'remove', path);
  const update = op['update'] ?? {};
  if (!isObject(update)) throw new CrdtValueError(`${path}.update: expected an object`);
  const steps: ((st: Store, c: CausalContext) => Causal)[] = [];
  for (const key of removes) {
    const inner = kindOfKey(k, key);
    if (inner === undefined) throw new CrdtSchemaError(`${path}: key ${JSON.stringify(key)} is not in the schema`);
    steps.push((st) => {
      const v = (st as MapStore).get(key);
      return v === undefined ? bottomDelta(k) : { store: emptyDotMap, cc: ccFromDots(storeDots(inner, v, [])) };
    });
  }
  for (const key of Object.keys(update)) {
    const kp = keyProblem(key);
    if (kp !== undefined) throw new CrdtValueError(`${path}.update: ${kp}`);
    if (removes.includes(key)) throw new CrdtValueError(`${path}: key ${JSON.stringify(key)} is both updated and removed`);
    const inner = kindOfKey(k, key);
    if (inner === undefined) throw new CrdtSchemaError(`${path}: key ${JSON.stringify(key)} is not in the schema`);
    steps.push((st, c) => updateKey(st as MapStore, c, key, inner, update[key], ctx, `${path}.${key}`));
  }
  return foldSteps(k, s, cc, steps);
}

function updateKey(s: MapStore, cc: CausalContext, key: string, inner: Kind, op: unknown, ctx: OpContext, path: string): Causal {
  const v = s.get(key);
  if (v === undefined && s.size >= crdtLimits.mapKeysMax) throw new CrdtLimitError(`${path}: map already holds ${crdtLimits.mapKeysMax} keys`);
  const d = storeApply(inner, v ?? storeBottom(inner), cc, op, ctx, path);
  return { store: storeIsBottom(d.store) ? emptyDotMap : new Map([[key, d.store]]), cc: d.cc };
}
