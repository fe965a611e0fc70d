// Shared arbitraries and small helpers for the ring tests. Property runs use a fixed seed so CI
// is deterministic (SHOAL_FC_SEED overrides it; fast-check prints the seed and path of any
// failure; keep such a case as an example test beside its property, STYLE habit 9).
import fc from 'fast-check';
import { makeRing, type Ring, type RingMember } from '@shoal/ring';

export const fcSeed = Number(process.env['SHOAL_FC_SEED'] ?? 20_260_401);

export function fcOptions(numRuns: number): fc.Parameters<unknown> {
  return { seed: fcSeed, numRuns };
}

/** Node names, including the ones that break hashring's plain-object lookups. */
export const nodeName: fc.Arbitrary<string> = fc.oneof(
  { weight: 1, arbitrary: fc.constantFrom('__proto__', 'constructor', 'toString', 'hasOwnProperty', 'host:4000', 'ünïcødé-节点', 'a-0') },
  { weight: 6, arbitrary: fc.stringMatching(/^[a-z][a-z0-9.-]{0,14}$/) },
);

/** 1 … max members with unique names and weights 1 … weightTop. */
export function membersArb(min: number, max: number, weightTop = 4): fc.Arbitrary<RingMember[]> {
  return fc
    .uniqueArray(fc.record({ name: nodeName, weight: fc.integer({ min: 1, max: weightTop }) }), { minLength: min, maxLength: max, selector: (m) => m.name })
    .map((ms) => ms.map((m) => ({ ...m, token: m.name })));
}

export const partitionCountArb = fc.constantFrom(1, 2, 8, 16, 32, 64, 128);

export function ringOf(members: readonly RingMember[], partitionCount = 64, replication = 3, version = 1): Ring {
  return makeRing({ clusterName: 'test', origin: 'origin', partitionCount, replication, version, committedBy: '', members });
}

/** Members named prefix0 … prefix(k−1). */
export function namedMembers(k: number, prefix = 'node-', weight: (i: number) => number = () => 1): RingMember[] {
  return Array.from({ length: k }, (_, i) => ({ name: `${prefix}${i}`, weight: weight(i), token: `${prefix}${i}` }));
}

/** Owned replica and primary counts per member. */
export function loads(ring: Ring): { owned: Map<string, number>; primaries: Map<string, number> } {
  const owned = new Map<string, number>(ring.members.map((m) => [m.name, 0]));
  const primaries = new Map<string, number>(ring.members.map((m) => [m.name, 0]));
  for (const owners of ring.owners) {
    owners.forEach((m, i) => {
      owned.set(m, (owned.get(m) ?? 0) + 1);
      if (i === 0) primaries.set(m, (primaries.get(m) ?? 0) + 1);
    });
  }
  return { owned, primaries };
}

/** Replicas that must be copied going from `a` to `b`: Σ_p |owners_b(p) \ owners_a(p)|. */
export function transfers(a: Ring, b: Ring): number {
  let count = 0;
  a.owners.forEach((from, p) => {
    count += b.owners[p]!.filter((m) => !from.includes(m)).length;
  });
  return count;
}
