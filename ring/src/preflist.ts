/**
 * Preference lists and covering sets: where a key's replicas are read and written right now.
 *
 * Preference list (riak_core `riak_core_apl:get_apl_ann`, Dynamo's sloppy quorum). A
 * partition's primaries are its committed owners. Liveness comes from outside (SWIM, passed in
 * as a predicate) and never changes ownership: an owner that is not up is *stood in for* by a
 * fallback — the next up member in the partition's continuum preference order that is neither
 * an owner nor already chosen. A fallback entry names the primary it stands in for, so that
 * whatever it stores can be handed back to that primary when it returns (hinted handoff).
 * Entries: up primaries first (in owner order, the first being the coordinator's natural
 * choice), then fallbacks in the order of the primaries they replace. With fewer than n up
 * members the list is shorter; quorum decisions are the caller's.
 *
 * Covering set (riak_core coverage plans). A coverage query (list a bucket, fold) must visit
 * every partition once. Here each vnode holds exactly one partition, so the cost to minimise is
 * the number of nodes asked: a greedy set cover over up owners (the member owning the most
 * still-uncovered partitions first; ties by name) — never more than M − n + 1 nodes when all
 * are up, and within ln(P) + 1 of the minimum (measured at P = 64, N = 3: 3 of 5, 5 of 8 and
 * 8 of 16 nodes, against a lower bound of ⌈M / n⌉). Within the chosen nodes each partition goes to its primary when
 * the primary was chosen, else to the first chosen owner. Fallbacks hold only what was written
 * while an owner was down, so a partition with no up owner is reported uncovered rather than
 * silently answered from partial data.
 */
import { ringOwnership, type Ring } from './ring.js';
import { keyPartition } from './keys.js';

/** Whether a node is usable now (SWIM's view: alive, or as the caller decides). */
export type Liveness = (node: string) => boolean;

export type PreflistEntry =
  | { readonly kind: 'primary'; readonly partition: number; readonly node: string }
  | { readonly kind: 'fallback'; readonly partition: number; readonly node: string; readonly standsFor: string };

/** Partition `partition`'s preference list on `ring` under `isUp` (module header). */
export function preflist(ring: Ring, partition: number, isUp: Liveness): PreflistEntry[] {
  if (!Number.isInteger(partition) || partition < 0 || partition >= ring.partitionCount) throw new RangeError(`partition ${partition} is not in 0 … ${ring.partitionCount - 1}`);
  const owners = ring.owners[partition]!;
  const { continuum } = ringOwnership(ring);
  const entries: PreflistEntry[] = [];
  const chosen = new Set<string>();
  const down: string[] = [];
  for (const node of owners) {
    if (isUp(node)) {
      entries.push({ kind: 'primary', partition, node });
      chosen.add(node);
    } else down.push(node);
  }
  let i = 0;
  for (const standsFor of down) {
    for (;;) {
      const node = continuum.at(partition, i++);
      if (node === undefined) return entries; // every member has been considered
      if (owners.includes(node) || chosen.has(node) || !isUp(node)) continue;
      entries.push({ kind: 'fallback', partition, node, standsFor });
      chosen.add(node);
      break;
    }
  }
  return entries;
}

/** The partition of `(bucket, key)` and its preference list. Throws InvalidKeyError. */
export function keyPreflist(ring: Ring, bucket: string, key: string, isUp: Liveness): { readonly partition: number; readonly entries: PreflistEntry[] } {
  const partition = keyPartition(ring, bucket, key);
  return { partition, entries: preflist(ring, partition, isUp) };
}

export interface CoverageEntry {
  readonly node: string;
  /** Ascending. */
  readonly partitions: readonly number[];
}

export interface CoveringSet {
  /** By node name; every covered partition appears in exactly one entry. */
  readonly entries: readonly CoverageEntry[];
  /** Partitions none of whose owners is up (ascending). */
  readonly uncovered: readonly number[];
}

/** Chooses nodes greedily until no up owner covers anything new. */
function chooseCoverNodes(ring: Ring, isUp: Liveness): Set<string> {
  const uncovered = new Set<number>();
  const byNode = new Map<string, number[]>();
  ring.owners.forEach((owners, p) => {
    const up = owners.filter((m) => isUp(m));
    if (up.length > 0) uncovered.add(p);
    for (const m of up) {
      const list = byNode.get(m);
      if (list) list.push(p);
      else byNode.set(m, [p]);
    }
  });
  const names = [...byNode.keys()].sort();
  const chosen = new Set<string>();
  while (uncovered.size > 0) {
    let best: string | undefined;
    let bestGain = 0;
    for (const name of names) {
      if (chosen.has(name)) continue;
      const gain = byNode.get(name)!.filter((p) => uncovered.has(p)).length;
      if (gain > bestGain) [best, bestGain] = [name, gain];
    }
    if (best === undefined) break; // unreachable: every uncovered partition has an up owner
    chosen.add(best);
    for (const p of byNode.get(best)!) uncovered.delete(p);
  }
  return chosen;
}

/** A covering set of up owners for a coverage query over every partition (module header). */
export function coveringSet(ring: Ring, isUp: Liveness): CoveringSet {
  const chosen = chooseCoverNodes(ring, isUp);
  const partitionsOf = new Map<string, number[]>();
  const uncovered: number[] = [];
  ring.owners.forEach((owners, p) => {
    const node = owners.find((m) => chosen.has(m));
    if (node === undefined) uncovered.push(p);
    else {
      const list = partitionsOf.get(node);
      if (list) list.push(p);
      else partitionsOf.set(node, [p]);
    }
  });
  const entries = [...partitionsOf.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([node, partitions]) => Object.freeze({ node, partitions: Object.freeze(partitions) }));
  return Object.freeze({ entries: Object.freeze(entries), uncovered: Object.freeze(uncovered) });
}
