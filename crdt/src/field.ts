/**
 * Record fields: the five kinds as standalone CRDTs (not embedded: see store.ts), dispatched by
 * kind. A field's state is the module's own type — `Lww` (lww.ts), `MvReg` (mvreg.ts),
 * `Orswot` (orswot.ts), `PnCounter` (pncounter.ts), `OrMap` (ormap.ts) — so a record merges
 * field by field and each field keeps its own laws. LWW and PN-counter fields need no causal
 * context, which keeps the common record (mostly LWW fields) small and its merge cheap.
 *
 * A field is **bottom** when it holds nothing at all: for causal kinds, an empty store *and* an
 * empty context. A field with an empty store but a non-empty context is not bottom — it
 * remembers removals — and must be kept and shipped.
 */
import { ccIsEmpty } from './causal.js';
import type { WireResult } from './errors.js';
import type { Kind } from './kind.js';
import * as lww from './lww.js';
import type { Lww } from './lww.js';
import * as mv from './mvreg.js';
import type { MvReg } from './mvreg.js';
import * as om from './ormap.js';
import type { OrMap } from './ormap.js';
import * as set from './orswot.js';
import type { Orswot } from './orswot.js';
import * as pn from './pncounter.js';
import type { PnCounter } from './pncounter.js';
import { readIncOp, readSetOp, storeApply } from './ops.js';
import { causalJoin, storeIsBottom } from './store.js';
import type { Causal, OpContext, Store } from './store.js';
import { decoding } from './wire-read.js';

export type FieldState = Lww | MvReg | Orswot | PnCounter | OrMap;

export interface FieldDelta {
  readonly state: FieldState;
  readonly delta: FieldState;
}

export function fieldEmpty(k: Kind): FieldState {
  switch (k.type) {
    case 'lww':
      return lww.empty;
    case 'mvreg':
      return mv.empty;
    case 'orswot':
      return set.empty;
    case 'pncounter':
      return pn.empty;
    case 'ormap':
      return om.empty(k);
  }
}

export function fieldIsBottom(k: Kind, s: FieldState): boolean {
  switch (k.type) {
    case 'lww':
      return s === undefined;
    case 'pncounter':
      return (s as PnCounter).size === 0;
    default:
      return storeIsBottom((s as Causal<Store>).store) && ccIsEmpty((s as Causal<Store>).cc);
  }
}

export function fieldMerge(k: Kind, a: FieldState, b: FieldState): FieldState {
  switch (k.type) {
    case 'lww':
      return lww.merge(a as Lww, b as Lww);
    case 'mvreg':
      return mv.merge(a as MvReg, b as MvReg);
    case 'orswot':
      return set.merge(a as Orswot, b as Orswot);
    case 'pncounter':
      return pn.merge(a as PnCounter, b as PnCounter);
    case 'ormap':
      return om.merge(a as OrMap, b as OrMap);
  }
}

export function fieldEquals(k: Kind, a: FieldState, b: FieldState): boolean {
  switch (k.type) {
    case 'lww':
      return lww.equals(a as Lww, b as Lww);
    case 'mvreg':
      return mv.equals(a as MvReg, b as MvReg);
    case 'orswot':
      return set.equals(a as Orswot, b as Orswot);
    case 'pncounter':
      return pn.equals(a as PnCounter, b as PnCounter);
    case 'ormap':
      return om.equals(a as OrMap, b as OrMap);
  }
}

export function fieldValue(k: Kind, s: FieldState): unknown {
  switch (k.type) {
    case 'lww':
      return lww.value(s as Lww);
    case 'mvreg':
      return mv.value(s as MvReg);
    case 'orswot':
      return set.value(s as Orswot);
    case 'pncounter':
      return pn.value(s as PnCounter);
    case 'ormap':
      return om.value(s as OrMap);
  }
}

/** Applies `op` (validated here) with `ctx`; the writer is `ctx.stamp.node`. */
export function fieldApply(k: Kind, s: FieldState, op: unknown, ctx: OpContext, path: string): FieldDelta {
  switch (k.type) {
    case 'lww':
      return lww.set(s as Lww, readSetOp(op, path), ctx.stamp, k.check);
    case 'pncounter':
      return pn.increment(s as PnCounter, ctx.stamp.node, readIncOp(op, path));
    case 'mvreg':
    case 'orswot': {
      const cur = s as Causal<Store>;
      const delta = storeApply(k, cur.store, cur.cc, op, ctx, path);
      return { state: causalJoin(k, cur, delta) as FieldState, delta: delta as FieldState };
    }
    case 'ormap': {
      const cur = s as OrMap;
      const d = storeApply(k, cur.store, cur.cc, op, ctx, path);
      const delta = { kind: cur.kind, store: d.store as OrMap['store'], cc: d.cc };
      return { state: om.merge(cur, delta), delta };
    }
  }
}

export function fieldToWire(k: Kind, s: FieldState): unknown {
  switch (k.type) {
    case 'lww':
      return lww.toWire(s as Lww);
    case 'mvreg':
      return mv.toWire(s as MvReg);
    case 'orswot':
      return set.toWire(s as Orswot);
    case 'pncounter':
      return pn.toWire(s as PnCounter);
    case 'ormap':
      return om.toWire(s as OrMap);
  }
}

/** Reads a field of kind `k`; throws the decoder's rejection (use inside `decoding`). @internal */
export function readField(k: Kind, x: unknown, path: string): FieldState {
  switch (k.type) {
    case 'lww':
      return lww.readLww(x, path, k.check);
    case 'mvreg':
      return mv.readMvReg(x, path, k.check);
    case 'orswot':
      return set.readOrswot(x, path);
    case 'pncounter':
      return pn.readPnCounter(x, path);
    case 'ormap':
      return om.readOrMap(k, x, path);
  }
}

export function fieldFromWire(k: Kind, x: unknown): WireResult<FieldState> {
  return decoding(() => readField(k, x, ''));
}
