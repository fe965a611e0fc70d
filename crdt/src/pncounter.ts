/**
 * PN-counter (Shapiro, Preguiça, Baquero, Zawirski, "A comprehensive study of Convergent and
 * Commutative Replicated Data Types", 2011; riak_dt_pncounter; Akka's PNCounter).
 *
 * State: node → { p, n }: the total each writer added (`p`) and subtracted (`n`). Merge takes
 * the per-writer maximum of each part (a writer's parts only grow); value = Σp − Σn. The delta
 * of `increment` is the one-writer counter holding that writer's new parts, so merging it is
 * the same per-writer maximum (Almeida et al. 2018, §4: the δ-PNCounter).
 *
 * Invariants: parts are integers in [0, counterPartMax]; a writer with both parts 0 is not
 * stored; at most `nodesMax` writers. With those bounds the value is exact in a float64.
 * Encoding: `[[node, p, n], …]` sorted by node.
 */
import { CrdtLimitError, CrdtValueError } from './errors.js';
import type { WireResult } from './errors.js';
import { crdtLimits, wireCountMax } from './limits.js';
import { nodeProblem } from './text.js';
import { decoding, readArray, readInt, readNode, reject } from './wire-read.js';

export interface PnParts {
  readonly p: number;
  readonly n: number;
}

export type PnCounter = ReadonlyMap<string, PnParts>;

export interface PnDelta {
  readonly state: PnCounter;
  readonly delta: PnCounter;
}

export const empty: PnCounter = new Map();

/** Adds `amount` (negative subtracts) on behalf of `node`. */
export function increment(state: PnCounter, node: string, amount: number): PnDelta {
  const np = nodeProblem(node);
  if (np !== undefined) throw new CrdtValueError(`pncounter: ${np}`);
  if (!Number.isSafeInteger(amount)) throw new CrdtValueError(`pncounter: amount ${amount} is not a safe integer`);
  const old = state.get(node);
  if (old === undefined && state.size >= crdtLimits.nodesMax) throw new CrdtLimitError(`pncounter: already ${crdtLimits.nodesMax} writers`);
  if (amount === 0) return { state, delta: empty };
  const p = (old?.p ?? 0) + Math.max(amount, 0);
  const n = (old?.n ?? 0) + Math.max(-amount, 0);
  if (p > crdtLimits.counterPartMax || n > crdtLimits.counterPartMax) {
    throw new CrdtLimitError(`pncounter: a writer's total would pass ${crdtLimits.counterPartMax}`);
  }
  const parts = { p, n };
  const next = new Map(state);
  next.set(node, parts);
  return { state: next, delta: new Map([[node, parts]]) };
}

/** Per-writer maximum of both parts; `a` itself when `b` adds nothing. */
export function merge(a: PnCounter, b: PnCounter): PnCounter {
  if (a === b || b.size === 0) return a;
  if (a.size === 0) return b;
  let out: Map<string, PnParts> | undefined;
  for (const [node, y] of b) {
    const x = a.get(node);
    if (x !== undefined && x.p >= y.p && x.n >= y.n) continue;
    const parts = x === undefined || (y.p >= x.p && y.n >= x.n) ? y : { p: Math.max(x.p, y.p), n: Math.max(x.n, y.n) };
    out ??= new Map(a);
    out.set(node, parts);
  }
  return out ?? a;
}

export function value(state: PnCounter): number {
  let v = 0;
  for (const { p, n } of state.values()) v += p - n;
  return v;
}

export function equals(a: PnCounter, b: PnCounter): boolean {
  if (a === b) return true;
  if (a.size !== b.size) return false;
  for (const [node, x] of a) {
    const y = b.get(node);
    if (y === undefined || x.p !== y.p || x.n !== y.n) return false;
  }
  return true;
}

export type PnCounterWire = [string, number, number][];

export function toWire(state: PnCounter): PnCounterWire {
  return [...state.keys()].sort().map((node) => {
    const { p, n } = state.get(node) as PnParts;
    return [node, p, n];
  });
}

/** Reads an encoding; throws the decoder's rejection (use inside `decoding`). @internal */
export function readPnCounter(x: unknown, path: string): PnCounter {
  const items = readArray(x, path, wireCountMax(crdtLimits.nodesMax));
  const out = new Map<string, PnParts>();
  let prev: string | undefined;
  for (let i = 0; i < items.length; i++) {
    const at = `${path}[${i}]`;
    const e = readArray(items[i], at, 3);
    const node = readNode(e[0], at);
    if (prev !== undefined && !(prev < node)) reject(at, 'writers are not in strictly increasing order');
    prev = node;
    const p = readInt(e[1], `${at}.p`, 0, crdtLimits.counterPartMax);
    const n = readInt(e[2], `${at}.n`, 0, crdtLimits.counterPartMax);
    if (p === 0 && n === 0) reject(at, 'writer with both parts 0');
    out.set(node, { p, n });
  }
  return out;
}

export function fromWire(x: unknown): WireResult<PnCounter> {
  return decoding(() => readPnCounter(x, ''));
}
