/**
 * Last-writer-wins register stamped with a hybrid logical clock (hlc.ts) — riak_dt_lwwreg /
 * Akka's LWWRegister with an HLC instead of a wall clock.
 *
 * State: `undefined` (never written) or `{ stamp, value }`. Merge keeps the entry with the
 * greater stamp. Because the writer's node id is part of the stamp, two different writes never
 * tie; if two entries do carry equal stamps (one writer reusing a stamp — a bug — or a hostile
 * peer), the greater value by `plainCompare` wins, so merge stays commutative regardless.
 *
 * `set(state, value, stamp)` writes with `after(stamp, current)`: a write always wins over the
 * value it overwrites, even when the writer's clock is behind the stamp it saw. The delta of a
 * write is the new register itself (a state of the same type), so `merge(state, delta)` applies
 * it anywhere. Merge, value and equals are O(1) (plus value comparison on ties).
 *
 * Encoding: `[]` or `[wallMs, counter, node, value]`.
 */
import { CrdtValueError } from './errors.js';
import type { WireResult } from './errors.js';
import { after, hlcCompare, hlcProblem, readHlcAt } from './hlc.js';
import type { Hlc } from './hlc.js';
import { plainCompare, valueProblem } from './plain.js';
import type { Plain, ValueCheck } from './plain.js';
import { decoding, readArray, reject } from './wire-read.js';

export type Lww<T extends Plain = Plain> = { readonly stamp: Hlc; readonly value: T } | undefined;

export interface LwwDelta<T extends Plain = Plain> {
  readonly state: Lww<T>;
  readonly delta: Lww<T>;
}

export const empty: Lww<never> = undefined;

/** Writes `value` with `stamp` (moved past the current stamp if needed); `check` validates it. */
export function set<T extends Plain>(state: Lww<T>, value: T, stamp: Hlc, check: ValueCheck = 'plain'): LwwDelta<T> {
  const sp = hlcProblem(stamp);
  if (sp !== undefined) throw new CrdtValueError(`lww: ${sp}`);
  const vp = valueProblem(value, check);
  if (vp !== undefined) throw new CrdtValueError(`lww: ${vp}`);
  const next = { stamp: after(stamp, state?.stamp), value };
  return { state: next, delta: next };
}

/** The entry with the greater stamp (`a` itself when it wins or ties by value). */
export function merge<T extends Plain>(a: Lww<T>, b: Lww<T>): Lww<T> {
  if (b === undefined || a === b) return a;
  if (a === undefined) return b;
  const c = hlcCompare(a.stamp, b.stamp);
  if (c !== 0) return c > 0 ? a : b;
  return plainCompare(a.value, b.value) >= 0 ? a : b;
}

export function value<T extends Plain>(state: Lww<T>): T | undefined {
  return state?.value;
}

export function equals<T extends Plain>(a: Lww<T>, b: Lww<T>): boolean {
  if (a === b) return true;
  if (a === undefined || b === undefined) return false;
  return hlcCompare(a.stamp, b.stamp) === 0 && plainCompare(a.value, b.value) === 0;
}

export type LwwWire = [] | [number, number, string, Plain];

export function toWire<T extends Plain>(state: Lww<T>): LwwWire {
  return state === undefined ? [] : [state.stamp.wallMs, state.stamp.counter, state.stamp.node, state.value];
}

/** Reads an encoding; throws the decoder's rejection (use inside `decoding`). @internal */
export function readLww(x: unknown, path: string, check: ValueCheck): Lww {
  const items = readArray(x, path, 4);
  if (items.length === 0) return undefined;
  if (items.length !== 4) reject(path, 'expected [] or [wallMs, counter, node, value]');
  const stamp = readHlcAt(items, 0, path);
  const v = items[3];
  const vp = valueProblem(v, check);
  if (vp !== undefined) reject(`${path}.value`, vp);
  return { stamp, value: v as Plain };
}

/** Decodes an encoding, checking the value with `check` ('plain' by default). */
export function fromWire(x: unknown, check: ValueCheck = 'plain'): WireResult<Lww> {
  return decoding(() => readLww(x, '', check));
}
