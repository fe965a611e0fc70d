/**
 * Hybrid logical clock (Kulkarni, Demirbas, Madappa, Avva, Leone, "Logical Physical Clocks",
 * OPODIS 2014), as pure functions: the wall time is an argument, never read here.
 *
 * A timestamp is `{ wallMs, counter, node }`: `wallMs` is the largest physical time (ms) the
 * clock has heard of, `counter` orders events within one `wallMs`, and `node` (the writer's id)
 * breaks the remaining ties, so two distinct writers never produce equal timestamps and the
 * order (wallMs, counter, node) is total. That is what makes an LWW register conflict-free.
 *
 * - `tick(prev, now)`: a local or send event. `wallMs = max(prev.wallMs, now)`; the counter
 *   resets when the wall advanced, else increments.
 * - `receive(local, remote, now)`: a receive event. `wallMs = max(local, remote, now)`; the
 *   counter follows the clock(s) that supplied `wallMs` (the paper's case analysis).
 * - `after(stamp, observed)`: the stamp a write uses when it overwrites `observed`: `stamp` if
 *   already later, else the smallest successor of `observed` on `stamp.node` — a write is always
 *   ordered after what it replaced, even when the writer's clock is behind.
 *
 * Invariants: results are monotonic (never less than `prev`/`local`), `wallMs` and `counter`
 * are safe non-negative integers, `counter ≤ hlcCounterMax`. When the counter would pass its
 * bound the clock moves to `wallMs + 1` with counter 0 (still monotonic; the logical wall runs
 * at most that far ahead of physical time). A remote stamp more than `driftMsMax` ahead of our
 * wall time is refused (`{ ok: false, reason: 'drift' }`) instead of being adopted: one node
 * with a broken clock must not drag every clock (and every LWW register) into the future. The
 * bound is the paper's ε; refusing, not clamping, keeps the clock ≥ everything it accepted.
 */
import { CrdtValueError } from './errors.js';
import { nodeProblem } from './text.js';
import type { WireResult } from './errors.js';
import { decoding, readArray, readInt, readNode } from './wire-read.js';

export interface Hlc {
  /** Physical component: the largest wall time (Unix ms) this clock has heard of. */
  readonly wallMs: number;
  /** Logical component: events within the same `wallMs`. */
  readonly counter: number;
  /** The clock's owner (writer id); the last tie-breaker. */
  readonly node: string;
}

/** Largest counter before the clock advances `wallMs` by one (fits msgpack uint16). */
export const hlcCounterMax = 0xffff;
/** Default bound on how far (ms) a remote clock may run ahead of our wall time. */
export const hlcDriftMsMaxDefault = 60_000;

export type HlcReceiveResult =
  | { readonly ok: true; readonly clock: Hlc }
  | { readonly ok: false; readonly reason: 'drift'; readonly aheadMs: number; readonly clock: Hlc };

/** The clock of `node` before any event. */
export function hlcZero(node: string): Hlc {
  const p = nodeProblem(node);
  if (p !== undefined) throw new CrdtValueError(`hlc: ${p}`);
  return { wallMs: 0, counter: 0, node };
}

/** Total order: wallMs, then counter, then node id (code units). */
export function hlcCompare(a: Hlc, b: Hlc): number {
  if (a.wallMs !== b.wallMs) return a.wallMs < b.wallMs ? -1 : 1;
  if (a.counter !== b.counter) return a.counter < b.counter ? -1 : 1;
  if (a.node === b.node) return 0;
  return a.node < b.node ? -1 : 1;
}

function checkWall(nowWallMs: number): void {
  if (!Number.isSafeInteger(nowWallMs) || nowWallMs < 0) throw new CrdtValueError(`hlc: wall time ${nowWallMs} is not a non-negative integer of ms`);
}

function make(wallMs: number, counter: number, node: string): Hlc {
  return counter > hlcCounterMax ? { wallMs: wallMs + 1, counter: 0, node } : { wallMs, counter, node };
}

/** A local or send event at wall time `nowWallMs`. */
export function tick(prev: Hlc, nowWallMs: number): Hlc {
  checkWall(nowWallMs);
  if (nowWallMs > prev.wallMs) return { wallMs: nowWallMs, counter: 0, node: prev.node };
  return make(prev.wallMs, prev.counter + 1, prev.node);
}

/** A receive event: `remote` arrives at wall time `nowWallMs` (refused if too far ahead). */
export function receive(local: Hlc, remote: Hlc, nowWallMs: number, driftMsMax: number = hlcDriftMsMaxDefault): HlcReceiveResult {
  checkWall(nowWallMs);
  const aheadMs = remote.wallMs - nowWallMs;
  // A clock this far ahead is broken; adopting it would push ours (and our writes) into the future.
  if (aheadMs > driftMsMax) return { ok: false, reason: 'drift', aheadMs, clock: local };
  const wallMs = Math.max(local.wallMs, remote.wallMs, nowWallMs);
  let counter = 0;
  if (wallMs === local.wallMs && wallMs === remote.wallMs) counter = Math.max(local.counter, remote.counter) + 1;
  else if (wallMs === local.wallMs) counter = local.counter + 1;
  else if (wallMs === remote.wallMs) counter = remote.counter + 1;
  return { ok: true, clock: make(wallMs, counter, local.node) };
}

/** The stamp for a write by `stamp.node` that overwrites a value stamped `observed`. */
export function after(stamp: Hlc, observed: Hlc | undefined): Hlc {
  if (observed === undefined || hlcCompare(stamp, observed) > 0) return stamp;
  return make(observed.wallMs, observed.counter + 1, stamp.node);
}

/** Why `x` is not a usable stamp, or undefined. */
export function hlcProblem(x: Hlc): string | undefined {
  if (!Number.isSafeInteger(x.wallMs) || x.wallMs < 0) return 'stamp wallMs is not a non-negative integer';
  if (!Number.isSafeInteger(x.counter) || x.counter < 0 || x.counter > hlcCounterMax) return 'stamp counter is out of range';
  return nodeProblem(x.node);
}

/** Reads `[wallMs, counter, node]` starting at `items[at]` (helper for flattened encodings). Throws the decoder's rejection. @internal */
export function readHlcAt(items: readonly unknown[], at: number, path: string): Hlc {
  const wallMs = readInt(items[at], `${path}.wallMs`, 0, Number.MAX_SAFE_INTEGER);
  const counter = readInt(items[at + 1], `${path}.counter`, 0, hlcCounterMax);
  const node = readNode(items[at + 2], `${path}.node`);
  return { wallMs, counter, node };
}

/** `[wallMs, counter, node]`. */
export function hlcToWire(x: Hlc): [number, number, string] {
  return [x.wallMs, x.counter, x.node];
}

/** Reads `[wallMs, counter, node]`; throws the decoder's rejection (use inside `decoding`). @internal */
export function readHlc(x: unknown, path: string): Hlc {
  const items = readArray(x, path, 3);
  return readHlcAt(items, 0, path);
}

/** Decodes `[wallMs, counter, node]`. */
export function hlcFromWire(x: unknown): WireResult<Hlc> {
  return decoding(() => readHlc(x, ''));
}
