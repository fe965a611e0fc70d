/**
 * Routing: where one request on a partition goes right now — the preference list (primaries,
 * fallbacks for down owners) plus, while the partition is moving, the old holders that still
 * owe a copy (transfers.ts), riak_core's `next` list seen from a coordinator.
 *
 * Entries, in order: up primaries (owner order), fallbacks (each standing in for a down owner),
 * then up old holders (`leaving`). Writes go to every entry and count acknowledgements from any
 * of them: each one either keeps what it stored or hands it off before dropping it. Reads go to
 * every entry, and an answer *counts* towards R unless it comes from a new owner that is still
 * receiving its copy (`counts: false`: its "not found" would be a lie). Fallbacks count, as in
 * Dynamo's sloppy quorum: that is the availability the design buys, and the reason R + W > N is
 * not a consistency guarantee here (docs/ring.md, "Guarantees and limits").
 *
 * A bucket may use fewer replicas than the ring (n < N): its owners are the first n of each
 * partition's owners, and only fallbacks standing for those count.
 *
 * The coordinator of a write is the first entry that counts (a complete up primary when there
 * is one), so that it applies operations to the fullest local state available.
 */
import { preflist, type Liveness } from './preflist.js';
import type { Ring } from './ring.js';
import type { TransferIndex } from './transfers.js';

export type RouteEntry =
  | { readonly role: 'primary'; readonly node: string; readonly counts: boolean }
  | { readonly role: 'fallback'; readonly node: string; readonly standsFor: string; readonly counts: true }
  | { readonly role: 'leaving'; readonly node: string; readonly counts: true };

export interface Route {
  readonly partition: number;
  /** min(n, owners) — the replicas a request aims at. */
  readonly replicas: number;
  readonly entries: readonly RouteEntry[];
}

/** Partition `p`'s route under `isUp`, for a bucket of `n` replicas (module header). */
export function route(ring: Ring, transfers: TransferIndex | undefined, p: number, isUp: Liveness, n: number = ring.replication): Route {
  const owners = ring.owners[p]!.slice(0, Math.max(1, Math.min(n, ring.replication)));
  const receiving = transfers?.targets.get(p) ?? [];
  const entries: RouteEntry[] = [];
  for (const e of preflist(ring, p, isUp)) {
    if (e.kind === 'primary') {
      if (owners.includes(e.node)) entries.push({ role: 'primary', node: e.node, counts: !receiving.includes(e.node) });
    } else if (owners.includes(e.standsFor)) {
      entries.push({ role: 'fallback', node: e.node, standsFor: e.standsFor, counts: true });
    }
  }
  for (const node of transfers?.sources.get(p) ?? []) {
    if (!isUp(node) || entries.some((e) => e.node === node)) continue;
    entries.push({ role: 'leaving', node, counts: true });
  }
  return { partition: p, replicas: owners.length, entries };
}

/** The node that should coordinate a write on this route, or undefined if nobody is up. */
export function coordinatorOf(r: Route): RouteEntry | undefined {
  return r.entries.find((e) => e.counts) ?? r.entries[0];
}

/** A quorum clipped to the replicas a partition actually has (a ring of one node has one). */
export function effectiveQuorum(quorum: number, replicas: number): number {
  return Math.max(1, Math.min(quorum, replicas));
}
