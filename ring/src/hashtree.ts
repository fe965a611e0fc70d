/**
 * Anti-entropy hash trees (Merkle 1987; Dynamo §4.7; riak_core's hashtree): a compact summary
 * of one partition's contents that two replicas compare to find the keys they disagree on
 * without shipping the keys.
 *
 * Shape. Every stored key gets a 32-bit hash of (key, encoded record): `keyHash`. Keys fall into
 * `aaeSegments` leaves (segments) by a hash of the key alone; a segment's hash is the sum mod
 * 2^32 of its keys' hashes, so a write updates it in O(1) (subtract the old hash, add the new)
 * and the result does not depend on the order keys were added. Inner levels group `aaeFanout`
 * children each and hash them in order (not a sum: with sums, a difference in one segment and
 * the opposite difference in a sibling would cancel out above them), up to one root. Two replicas holding the same records have
 * equal trees; a root that differs leads to the differing segments level by level, and a
 * segment that differs is settled by comparing the key hashes in it (`diffKeyHashes`).
 *
 * Encoded records are canonical (crdt: equal states encode to the same bytes), so equal states
 * hash equally. A 32-bit sum can collide (two different contents, same segment hash, ~2^-32 per
 * segment per exchange); the next write to either key changes it again, and read repair and
 * handoff do not depend on the tree.
 *
 * The tree keeps each key's hash in memory (a map per segment), so finding a segment's keys
 * costs no storage scan; that is the price (~100 B per key) of exchanges that read nothing from
 * disk until a difference is found. riak_core keeps the same data in LevelDB.
 */
import { hash } from 'node:crypto';
import { aaeFanout, aaeSegments } from './limits.js';

/** FNV-1a over the UTF-16 code units of the key: which segment a key falls in. */
export function segmentOf(skey: string, segments: number = aaeSegments): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < skey.length; i++) {
    h ^= skey.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % segments;
}

/** The hash of one stored record: the first 32 bits of SHA-1(key ‖ 0 ‖ bytes), never 0. */
export function keyHash(skey: string, bytes: Uint8Array): number {
  // One buffer and a one-shot hash (runs on every write); the same digest as hashing the parts.
  const k = Buffer.byteLength(skey, 'utf8');
  const input = Buffer.allocUnsafe(k + 1 + bytes.byteLength);
  input.write(skey, 0, 'utf8');
  input[k] = 0;
  input.set(bytes, k + 1);
  return hash('sha1', input, 'buffer').readUInt32BE(0) || 1;
}

export class HashTree {
  /** Segment sums. */
  readonly segments: Uint32Array;
  /**
   * Per segment: key → hash; a segment's map exists only while it holds keys (an empty map is
   * ~200 B, and a node holds a tree per vnode: 64 vnodes × 256 segments of empty maps were
   * 3 MB of an idle node's heap, and objects every major GC traced).
   */
  private readonly keys: (Map<string, number> | undefined)[];
  private count = 0;

  constructor(readonly segmentCount: number = aaeSegments) {
    this.segments = new Uint32Array(segmentCount);
    this.keys = new Array<Map<string, number> | undefined>(segmentCount).fill(undefined);
  }

  get size(): number {
    return this.count;
  }

  /** Sets (or with `hash` undefined, removes) a key's hash. */
  set(skey: string, hash: number | undefined): void {
    const s = segmentOf(skey, this.segmentCount);
    let map = this.keys[s];
    const old = map?.get(skey);
    if (old === hash) return;
    let sum = this.segments[s]!;
    if (old !== undefined) {
      sum = (sum - old) >>> 0;
      this.count--;
    }
    if (hash === undefined) {
      map!.delete(skey); // old !== undefined here, so the map exists
      if (map!.size === 0) this.keys[s] = undefined;
    } else {
      if (map === undefined) this.keys[s] = map = new Map();
      map.set(skey, hash);
      sum = (sum + hash) >>> 0;
      this.count++;
    }
    this.segments[s] = sum;
  }

  get(skey: string): number | undefined {
    return this.keys[segmentOf(skey, this.segmentCount)]?.get(skey);
  }

  /** Key hashes of the given segments, sorted by key. */
  keyHashes(segments: readonly number[]): [string, number][] {
    const out: [string, number][] = [];
    for (const s of segments) {
      const map = this.keys[s];
      if (map) for (const e of map) out.push(e);
    }
    return out.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  }

  root(): number {
    return treeLevels(this.segments).at(-1)![0]!;
  }
}

function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** The levels of a tree over `leaves`, leaves first, root (one value) last. */
export function treeLevels(leaves: Uint32Array, fanout: number = aaeFanout): Uint32Array[] {
  const levels = [leaves];
  let level = leaves;
  while (level.length > 1) {
    const up = new Uint32Array(Math.ceil(level.length / fanout));
    for (let j = 0; j < up.length; j++) {
      let h = 0x811c9dc5;
      for (let i = j * fanout; i < Math.min(level.length, (j + 1) * fanout); i++) h = Math.imul(h ^ level[i]!, 0x01000193) ^ (h >>> 15);
      up[j] = fmix32(h);
    }
    levels.push(up);
    level = up;
  }
  if (levels.length === 1 && leaves.length !== 1) levels.push(new Uint32Array([0]));
  return levels;
}

/**
 * Segments whose sums differ, found top-down (a subtree whose sums agree is skipped). Both
 * arrays have the same length; the result is ascending.
 */
export function diffSegments(a: Uint32Array, b: Uint32Array, fanout: number = aaeFanout): number[] {
  if (a.length !== b.length) throw new RangeError(`hash trees of ${a.length} and ${b.length} segments cannot be compared`);
  const la = treeLevels(a, fanout);
  const lb = treeLevels(b, fanout);
  let frontier = [0];
  for (let level = la.length - 1; level > 0; level--) {
    const next: number[] = [];
    for (const i of frontier) {
      if (la[level]![i] === lb[level]![i]) continue;
      const below = la[level - 1]!.length;
      for (let c = i * fanout; c < Math.min(below, (i + 1) * fanout); c++) next.push(c);
    }
    frontier = next;
  }
  return frontier.filter((s) => a[s] !== b[s]);
}

/** Keys whose hashes differ (or that one side lacks), from two key-sorted lists; ascending. */
export function diffKeyHashes(a: readonly (readonly [string, number])[], b: readonly (readonly [string, number])[]): string[] {
  const out: string[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    const x = a[i];
    const y = b[j];
    if (y === undefined || (x !== undefined && x[0] < y[0])) {
      out.push(x![0]);
      i++;
    } else if (x === undefined || y[0] < x[0]) {
      out.push(y[0]);
      j++;
    } else {
      if (x[1] !== y[1]) out.push(x[0]);
      i++;
      j++;
    }
  }
  return out;
}
