/**
 * The hashring continuum: each partition's preference order of members.
 *
 * Consistent hashing (Karger et al., STOC 1997) in its ketama form, provided by the `hashring`
 * package (3.2.0): a member of weight w puts 256 × w points on a 32-bit circle (MD5 of
 * `token-i` for 64 × w vnodes, four points per digest); a partition's key hashes to a point,
 * and walking clockwise from it and keeping the first occurrence of each member gives
 * that partition's preference order. A member's points depend only on its own token and
 * weight, so adding one member inserts it at random places in the orders and leaves the
 * relative order of everyone else unchanged — the property that makes a join move ~1/(M+1).
 *
 * Traps handled here (../shared/DEPENDENCIES.md):
 * - Only `range()` is used. `get()` caches in a plain object and pollutes Object.prototype on
 *   the key '__proto__'; `range()` skips the cache.
 * - hashring parses server names as `host:port` and keeps per-server data in plain objects, so
 *   a member called '__proto__' gets no points at all (measured). We never hand it a name: it
 *   sees `t` + hex(UTF-8 of the member's token) and we map answers back.
 * - Options are not passed (their keys contain spaces, misspellings are ignored silently); the
 *   defaults (MD5, 4 points per vnode) are the protocol, and a test checks the continuum
 *   against an independent ketama computation.
 * - hashring's own weighting gives a member floor(w / W × 40 × M) vnodes: it depends on every
 *   other member (a join would shift everyone's points) and is 0 for a weight far below the
 *   average. Each member's `vnodes` is therefore given explicitly as 64 × w (never equal to the
 *   default 40, the value at which hashring falls back to its own weighting), and the
 *   constructor asserts the point count of every member.
 *
 * Orders are computed lazily per partition and extended by doubling: `range(key, d)` returns
 * the first d members of the same clockwise walk, so a longer range extends a shorter one.
 * Ownership usually needs only the first N + a few members; fallbacks may walk further.
 */
import HashRing from 'hashring';
import { invariant } from './errors.js';
import { continuumPointsPerVnode, continuumVnodesPerWeight } from './limits.js';

export interface ContinuumMember {
  readonly name: string;
  readonly weight: number;
  /** The member's identity on the circle (its name unless it replaced another member). */
  readonly token: string;
}

/** The hashring key of partition `p` (part of the ownership protocol; pinned by test vectors). */
export function partitionKey(p: number): string {
  return `partition-${p}`;
}

function encodeToken(token: string): string {
  return `t${Buffer.from(token, 'utf8').toString('hex')}`;
}

export class Continuum {
  readonly memberCount: number;
  readonly #ring: HashRing;
  readonly #nameOf = new Map<string, string>();
  readonly #orders: (readonly string[] | undefined)[];
  readonly #initialDepth: number;

  constructor(members: readonly ContinuumMember[], partitionCount: number, initialDepth: number) {
    // Insertion order decides ties between equal points (hashring's sort is stable): by token,
    // so that `replace` (same token, new name) reproduces the layout exactly.
    const sorted = [...members].sort((a, b) => (a.token < b.token ? -1 : a.token > b.token ? 1 : 0));
    const servers: Record<string, { weight: number; vnodes: number }> = Object.create(null) as Record<string, { weight: number; vnodes: number }>;
    for (const m of sorted) {
      const encoded = encodeToken(m.token);
      invariant(!this.#nameOf.has(encoded), `token ${m.token} is used twice`);
      this.#nameOf.set(encoded, m.name);
      servers[encoded] = { weight: m.weight, vnodes: continuumVnodesPerWeight * m.weight };
    }
    this.memberCount = sorted.length;
    this.#ring = new HashRing(servers, 'md5');
    this.#orders = new Array<readonly string[] | undefined>(partitionCount).fill(undefined);
    this.#initialDepth = Math.max(1, initialDepth);
    const points = this.#ring.points([...this.#nameOf.keys()]);
    for (const m of sorted) {
      const count = points[encodeToken(m.token)]?.length ?? 0;
      invariant(count === continuumPointsPerVnode * continuumVnodesPerWeight * m.weight, `member ${m.name} has ${count} points on the hashring continuum`);
    }
  }

  /** The member at position `i` of partition `p`'s preference order, or undefined when i ≥ M. */
  at(p: number, i: number): string | undefined {
    if (i >= this.memberCount) return undefined;
    let order = this.#orders[p];
    if (order === undefined || i >= order.length) order = this.#extend(p, i + 1, order);
    return order[i];
  }

  /** The first `depth` members (fewer when M < depth) of partition `p`'s preference order. */
  prefix(p: number, depth: number): readonly string[] {
    const want = Math.min(depth, this.memberCount);
    let order = this.#orders[p];
    if (order === undefined || order.length < want) order = this.#extend(p, want, order);
    return order.slice(0, want);
  }

  #extend(p: number, atLeast: number, old: readonly string[] | undefined): readonly string[] {
    const depth = Math.min(this.memberCount, Math.max(atLeast, this.#initialDepth, 2 * (old?.length ?? 0)));
    const order = this.#ring.range(partitionKey(p), depth).map((encoded) => {
      const name = this.#nameOf.get(encoded);
      invariant(name !== undefined, `hashring answered an unknown server ${encoded}`);
      return name;
    });
    invariant(order.length === depth, `hashring returned ${order.length} of ${depth} members for partition ${p}`);
    invariant(old === undefined || old.every((m, i) => order[i] === m), 'a longer range must extend a shorter one');
    this.#orders[p] = order;
    return order;
  }
}
