/**
 * Balance: how far each member's load is from its fair share. riak_core's users' first
 * complaint about claim was imbalance they could not see until it hurt, so balance is an output
 * of every plan (`shoal cluster plan` prints it) and of every ring.
 *
 * Fair shares and caps are those of ownership.ts (water-filled, weighted); a ratio is load /
 * fair share (1 = exactly fair; the caps keep it ≤ ceil(1.25 × share) / share).
 */
import { ringOwnership, type Ring } from './ring.js';

export interface MemberBalance {
  readonly name: string;
  readonly weight: number;
  /** Partitions this member holds a replica of (primary or not). */
  readonly owned: number;
  /** Partitions this member is the primary (first owner) of. */
  readonly primaries: number;
  readonly fairOwned: number;
  readonly fairPrimaries: number;
  readonly ownedMax: number;
  readonly primariesMax: number;
  /** owned / fairOwned (1 when both are 0). */
  readonly ownedRatio: number;
  /** primaries / fairPrimaries (1 when both are 0). */
  readonly primariesRatio: number;
}

export interface Balance {
  readonly partitionCount: number;
  /** Replicas per partition, min(N, M). */
  readonly replicas: number;
  /** In ring member order (by name). */
  readonly members: readonly MemberBalance[];
  readonly ownedRatioMax: number;
  readonly ownedRatioMin: number;
  readonly primariesRatioMax: number;
  readonly primariesRatioMin: number;
}

function ratio(load: number, fair: number): number {
  if (fair === 0) return load === 0 ? 1 : Number.POSITIVE_INFINITY;
  return load / fair;
}

/** Per-member owned and primary counts against fair shares, for `ring`. */
export function balance(ring: Ring): Balance {
  const { shares } = ringOwnership(ring);
  const owned = new Map<string, number>();
  const primaries = new Map<string, number>();
  for (const owners of ring.owners) {
    owners.forEach((m, i) => {
      owned.set(m, (owned.get(m) ?? 0) + 1);
      if (i === 0) primaries.set(m, (primaries.get(m) ?? 0) + 1);
    });
  }
  const members = shares.members.map((s): MemberBalance => {
    const o = owned.get(s.name) ?? 0;
    const p = primaries.get(s.name) ?? 0;
    return { ...s, owned: o, primaries: p, ownedRatio: ratio(o, s.fairOwned), primariesRatio: ratio(p, s.fairPrimaries) };
  });
  const owr = members.map((m) => m.ownedRatio);
  const prr = members.map((m) => m.primariesRatio);
  return {
    partitionCount: ring.partitionCount,
    replicas: shares.n,
    members,
    ownedRatioMax: Math.max(...owr),
    ownedRatioMin: Math.min(...owr),
    primariesRatioMax: Math.max(...prr),
    primariesRatioMin: Math.min(...prr),
  };
}

/**
 * Every ownership invariant of `ring`, checked from scratch (for simulators and tests: an
 * `invariants()` check after each step). Returns the broken ones as sentences; [] when sound.
 */
export function ringProblems(ring: Ring): string[] {
  const problems: string[] = [];
  const names = new Set(ring.members.map((m) => m.name));
  const b = balance(ring);
  if (ring.owners.length !== ring.partitionCount) problems.push(`${ring.owners.length} owner lists for ${ring.partitionCount} partitions`);
  ring.owners.forEach((owners, p) => {
    if (owners.length !== b.replicas || new Set(owners).size !== owners.length) problems.push(`partition ${p} has owners [${owners.join(', ')}], not ${b.replicas} distinct members`);
    for (const m of owners) if (!names.has(m)) problems.push(`partition ${p} is owned by ${m}, who is not a member`);
  });
  for (const m of b.members) {
    if (m.owned > m.ownedMax) problems.push(`${m.name} owns ${m.owned} replicas, over its cap of ${m.ownedMax}`);
    if (m.primaries > m.primariesMax) problems.push(`${m.name} is primary of ${m.primaries} partitions, over its cap of ${m.primariesMax}`);
  }
  return problems;
}
