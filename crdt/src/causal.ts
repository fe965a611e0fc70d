/**
 * Dots and causal contexts: the bookkeeping shared by every causal CRDT here (Almeida, Shoker,
 * Baquero, "Delta State Replicated Data Types", JPDC 2018, §5 "causal CRDTs").
 *
 * A **dot** `(node, counter)` names one event: the `counter`-th write that `node` minted. A
 * **causal context** is a set of dots — every event a state has seen, whether its effect is
 * still present or was later overwritten or removed. It is stored compactly as
 * - a version vector `vv`: node → n, meaning the dots (node, 1) … (node, n) all belong; and
 * - a dot cloud `cloud`: node → sorted counters that belong but are not contiguous with `vv`.
 *
 * Full states made only by local operations and full-state merges keep the cloud empty (each
 * writer's dots are contiguous). Deltas are different: a delta's context holds just the dots it
 * talks about (the new dot, the dots it overwrites or removes), so it is mostly cloud; merging
 * deltas out of order leaves gaps in the cloud until the missing deltas, or a full state, fill
 * them. `compact` folds cloud dots that became contiguous into `vv`.
 *
 * Invariants (the canonical form, so that structural equality is set equality): `vv` values
 * are ≥ 1; cloud lists are non-empty, strictly increasing, and their first counter is greater
 * than `vv + 1` (anything contiguous has been folded in). Writers are never forgotten: a context
 * only grows, bounded by `nodesMax` writers. Contexts are immutable; `ccJoin` returns its first
 * argument itself when the second adds nothing, so callers can detect "no change" by identity.
 *
 * The rule a writer must keep: it mints `ccNext(cc, node)` from a state that holds every dot it
 * minted before (its own replica). A writer that lost its state must come back under a new id.
 */
import { CrdtLimitError, CrdtValueError } from './errors.js';
import { crdtLimits, wireCountMax } from './limits.js';
import { nodeProblem } from './text.js';
import { readArray, readInt, readNode, reject } from './wire-read.js';

export interface Dot {
  readonly node: string;
  readonly counter: number;
}

export interface CausalContext {
  readonly vv: ReadonlyMap<string, number>;
  readonly cloud: ReadonlyMap<string, readonly number[]>;
}

const noNumbers: ReadonlyMap<string, number> = new Map();
const noClouds: ReadonlyMap<string, readonly number[]> = new Map();

/** The empty context: no event seen. */
export const ccEmpty: CausalContext = Object.freeze({ vv: noNumbers, cloud: noClouds });

export function ccIsEmpty(cc: CausalContext): boolean {
  return cc.vv.size === 0 && cc.cloud.size === 0;
}

/** Order of dots: node id (code units), then counter. */
export function compareDots(a: Dot, b: Dot): number {
  if (a.node !== b.node) return a.node < b.node ? -1 : 1;
  return a.counter - b.counter;
}

function sortedIncludes(xs: readonly number[], x: number): boolean {
  let lo = 0;
  let hi = xs.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const v = xs[mid] as number;
    if (v === x) return true;
    if (v < x) lo = mid + 1;
    else hi = mid - 1;
  }
  return false;
}

/** Whether the dot (node, counter) is in the context. */
export function ccHas(cc: CausalContext, node: string, counter: number): boolean {
  const v = cc.vv.get(node);
  if (v !== undefined && counter <= v) return true;
  if (cc.cloud.size === 0) return false;
  const c = cc.cloud.get(node);
  return c !== undefined && sortedIncludes(c, counter);
}

/** Whether `dot` is in the context. */
export function ccHasDot(cc: CausalContext, dot: Dot): boolean {
  return ccHas(cc, dot.node, dot.counter);
}

/** Number of distinct writers the context names. */
export function ccNodeCount(cc: CausalContext): number {
  if (cc.cloud.size === 0) return cc.vv.size;
  let n = cc.vv.size;
  for (const node of cc.cloud.keys()) if (!cc.vv.has(node)) n++;
  return n;
}

/** The next dot `node` mints on a state with context `cc` (see the header for the rule). */
export function ccNext(cc: CausalContext, node: string): Dot {
  const np = nodeProblem(node);
  if (np !== undefined) throw new CrdtValueError(`dot: ${np}`);
  const v = cc.vv.get(node);
  if (v === undefined && !cc.cloud.has(node) && ccNodeCount(cc) >= crdtLimits.nodesMax) {
    throw new CrdtLimitError(`causal context already names ${crdtLimits.nodesMax} writers`);
  }
  const c = cc.cloud.get(node);
  const top = c === undefined ? (v ?? 0) : (c[c.length - 1] as number);
  return { node, counter: top + 1 };
}

/** Folds counters contiguous with `v` into it: returns the new `v` and the remaining cloud. */
function compactNode(v: number, counters: readonly number[]): [number, readonly number[]] {
  let i = 0;
  while (i < counters.length && (counters[i] as number) <= v + 1) {
    v = Math.max(v, counters[i] as number);
    i++;
  }
  return [v, i === 0 ? counters : counters.slice(i)];
}

/** The context holding exactly `dots` (any order, duplicates allowed). */
export function ccFromDots(dots: Iterable<Dot>): CausalContext {
  const byNode = new Map<string, number[]>();
  for (const d of dots) {
    const list = byNode.get(d.node);
    if (list === undefined) byNode.set(d.node, [d.counter]);
    else list.push(d.counter);
  }
  if (byNode.size === 0) return ccEmpty;
  const vv = new Map<string, number>();
  const cloud = new Map<string, readonly number[]>();
  for (const [node, list] of byNode) {
    list.sort((a, b) => a - b);
    const unique = list.filter((c, i) => i === 0 || c !== list[i - 1]);
    const [v, rest] = compactNode(0, unique);
    if (v > 0) vv.set(node, v);
    if (rest.length > 0) cloud.set(node, rest);
  }
  return { vv: vv.size === 0 ? noNumbers : vv, cloud: cloud.size === 0 ? noClouds : cloud };
}

/** Sorted union of two strictly increasing lists, keeping only counters above `floor`. */
function unionAbove(a: readonly number[], b: readonly number[], floor: number): number[] {
  const out: number[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    const x = i < a.length ? (a[i] as number) : Infinity;
    const y = j < b.length ? (b[j] as number) : Infinity;
    const m = Math.min(x, y);
    if (x === m) i++;
    if (y === m) j++;
    if (m > floor) out.push(m);
  }
  return out;
}

/** Whether every dot of `node` in `b` (vv `bv`, cloud `bc`) is already in `a`. */
function covers(a: CausalContext, node: string, bv: number, bc: readonly number[]): boolean {
  const av = a.vv.get(node) ?? 0;
  if (bv > av) return false;
  for (const c of bc) if (c > av && !ccHas(a, node, c)) return false;
  return true;
}

/** Union of two contexts, compacted. Returns `a` itself when `b` adds nothing. */
export function ccJoin(a: CausalContext, b: CausalContext): CausalContext {
  if (a === b || ccIsEmpty(b)) return a;
  if (ccIsEmpty(a)) return b;
  let vv: Map<string, number> | undefined;
  let cloud: Map<string, readonly number[]> | undefined;
  const visit = (node: string): void => {
    const bv = b.vv.get(node) ?? 0;
    const bc = b.cloud.get(node) ?? [];
    if (covers(a, node, bv, bc)) return;
    const av = a.vv.get(node) ?? 0;
    const floor = Math.max(av, bv);
    const [v, rest] = compactNode(floor, unionAbove(a.cloud.get(node) ?? [], bc, floor));
    vv ??= new Map(a.vv);
    cloud ??= new Map(a.cloud);
    if (v > 0) vv.set(node, v);
    if (rest.length > 0) cloud.set(node, rest);
    else cloud.delete(node);
  };
  for (const node of b.vv.keys()) visit(node);
  for (const node of b.cloud.keys()) if (!b.vv.has(node)) visit(node);
  if (vv === undefined || cloud === undefined) return a;
  return { vv, cloud: cloud.size === 0 ? noClouds : cloud };
}

function mapsEqual<V>(a: ReadonlyMap<string, V>, b: ReadonlyMap<string, V>, eq: (x: V, y: V) => boolean): boolean {
  if (a === b) return true;
  if (a.size !== b.size) return false;
  for (const [k, v] of a) {
    const w = b.get(k);
    if (w === undefined || !eq(v, w)) return false;
  }
  return true;
}

const listsEqual = (x: readonly number[], y: readonly number[]): boolean => x.length === y.length && x.every((c, i) => c === y[i]);

export function ccEquals(a: CausalContext, b: CausalContext): boolean {
  return mapsEqual(a.vv, b.vv, (x, y) => x === y) && mapsEqual(a.cloud, b.cloud, listsEqual);
}

/** Every dot of the context (for tests and diagnostics; a version vector can make this long). */
export function* ccDots(cc: CausalContext): Generator<Dot> {
  for (const [node, v] of cc.vv) for (let c = 1; c <= v; c++) yield { node, counter: c };
  for (const [node, list] of cc.cloud) for (const c of list) yield { node, counter: c };
}

/** `[[node, n, ...cloudCounters], …]` sorted by node; n = 0 when only cloud dots are known. */
export type CausalContextWire = (string | number)[][];

export function ccToWire(cc: CausalContext): CausalContextWire {
  const nodes = new Set<string>([...cc.vv.keys(), ...cc.cloud.keys()]);
  return [...nodes].sort().map((node) => [node, cc.vv.get(node) ?? 0, ...(cc.cloud.get(node) ?? [])]);
}

/** Reads a canonical context encoding (see `ccToWire`); throws the decoder's rejection. @internal */
export function readCausalContext(x: unknown, path: string): CausalContext {
  const entries = readArray(x, path, wireCountMax(crdtLimits.nodesMax));
  const vv = new Map<string, number>();
  const cloud = new Map<string, readonly number[]>();
  let cloudDots = 0;
  let prevNode: string | undefined;
  for (let i = 0; i < entries.length; i++) {
    const at = `${path}[${i}]`;
    const e = readArray(entries[i], at, 2 + wireCountMax(crdtLimits.cloudDotsMax));
    const node = readNode(e[0], at);
    if (prevNode !== undefined && !(prevNode < node)) reject(at, 'writers are not in strictly increasing order');
    prevNode = node;
    const v = readInt(e[1], at, 0, Number.MAX_SAFE_INTEGER);
    let prev = v + 1;
    for (let j = 2; j < e.length; j++) {
      const c = readInt(e[j], at, prev + 1, Number.MAX_SAFE_INTEGER);
      prev = c;
    }
    cloudDots += e.length - 2;
    if (cloudDots > wireCountMax(crdtLimits.cloudDotsMax)) reject(path, 'dot cloud is too large');
    if (v === 0 && e.length === 2) reject(at, 'writer with no dots');
    if (v > 0) vv.set(node, v);
    if (e.length > 2) cloud.set(node, e.slice(2) as number[]);
  }
  return { vv: vv.size === 0 ? noNumbers : vv, cloud: cloud.size === 0 ? noClouds : cloud };
}
