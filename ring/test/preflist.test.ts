// Preference lists under random liveness: N distinct up members when enough are up, primaries
// first, each fallback standing in for a distinct down owner; covering sets cover every
// partition exactly once from up owners, with at most M − n + 1 nodes.
import t from 'tap';
import fc from 'fast-check';
import { coveringSet, keyPartition, keyPreflist, preflist } from '@shoal/ring';
import type { PreflistEntry, Ring } from '@shoal/ring';
import { fcOptions, membersArb, namedMembers, partitionCountArb, ringOf } from './helpers.js';

const scenario = fc
  .tuple(membersArb(1, 12), partitionCountArb, fc.integer({ min: 1, max: 5 }), fc.array(fc.boolean(), { minLength: 12, maxLength: 12 }))
  .map(([members, P, N, upFlags]) => {
    const ring = ringOf(members, P, N);
    const up = new Set(ring.members.filter((_, i) => upFlags[i]).map((m) => m.name));
    return { ring, up, isUp: (node: string) => up.has(node) };
  });

function wellFormed(ring: Ring, p: number, up: Set<string>, entries: PreflistEntry[]): boolean {
  const owners = ring.owners[p]!;
  const n = owners.length;
  const nodes = entries.map((e) => e.node);
  const primaries = entries.filter((e) => e.kind === 'primary');
  const fallbacks = entries.filter((e) => e.kind === 'fallback');
  const downOwners = owners.filter((m) => !up.has(m));
  return (
    entries.length === Math.min(n, up.size) && // N when enough are up, else every up member
    new Set(nodes).size === nodes.length &&
    nodes.every((m) => up.has(m)) &&
    entries.every((e) => e.partition === p) &&
    JSON.stringify(primaries.map((e) => e.node)) === JSON.stringify(owners.filter((m) => up.has(m))) && // up owners, in owner order
    entries.findIndex((e) => e.kind === 'fallback') === (fallbacks.length === 0 ? -1 : primaries.length) && // primaries first
    fallbacks.every((e, i) => e.kind === 'fallback' && e.standsFor === downOwners[i] && !owners.includes(e.node))
  );
}

t.test('preference lists: n distinct up members, primaries first, fallbacks stand in for down owners', async (t) => {
  fc.assert(
    fc.property(scenario, ({ ring, up, isUp }) => {
      for (let p = 0; p < ring.partitionCount; p++) if (!wellFormed(ring, p, up, preflist(ring, p, isUp))) return false;
      return true;
    }),
    fcOptions(200),
  );
  t.pass('holds');
});

t.test('all up: the preference list is the owners; fallbacks follow the continuum', async (t) => {
  const ring = ringOf(namedMembers(6), 64);
  const all = preflist(ring, 5, () => true);
  t.same(all, ring.owners[5]!.map((node) => ({ kind: 'primary', partition: 5, node })));
  const downed = ring.owners[5]![0]!;
  const one = preflist(ring, 5, (m) => m !== downed);
  t.equal(one.length, 3);
  t.same(one.slice(0, 2).map((e) => e.node), ring.owners[5]!.slice(1));
  t.match(one[2], { kind: 'fallback', standsFor: downed });
  t.same(preflist(ring, 5, () => false), [], 'nobody up: empty list');
  t.throws(() => preflist(ring, 64, () => true), RangeError);
  const { partition, entries } = keyPreflist(ring, 'vms', 'vm-1', () => true);
  t.equal(partition, keyPartition(ring, 'vms', 'vm-1'));
  t.same(entries.map((e) => e.node), ring.owners[partition]);
});

t.test('covering sets: each partition exactly once, from an up owner, few nodes', async (t) => {
  fc.assert(
    fc.property(scenario, ({ ring, up, isUp }) => {
      const cover = coveringSet(ring, isUp);
      const seen = new Array<number>(ring.partitionCount).fill(0);
      for (const e of cover.entries) {
        if (!up.has(e.node)) return false;
        for (const p of e.partitions) {
          if (!ring.owners[p]!.includes(e.node)) return false;
          seen[p]! += 1;
        }
      }
      const n = Math.min(ring.replication, ring.members.length);
      const coverable = ring.owners.map((o) => o.some((m) => up.has(m)));
      return (
        seen.every((count, p) => count === (coverable[p] ? 1 : 0)) &&
        JSON.stringify(cover.uncovered) === JSON.stringify(coverable.flatMap((c, p) => (c ? [] : [p]))) &&
        (up.size < ring.members.length || cover.entries.length <= ring.members.length - n + 1)
      );
    }),
    fcOptions(200),
  );
  t.pass('holds');
});

t.test('covering set examples: primaries preferred, sizes printed', async (t) => {
  for (const M of [3, 5, 8, 16]) {
    const ring = ringOf(namedMembers(M), 64);
    const cover = coveringSet(ring, () => true);
    const viaPrimary = cover.entries.reduce((a, e) => a + e.partitions.filter((p) => ring.owners[p]![0] === e.node).length, 0);
    t.comment(`M=${M}: ${cover.entries.length} nodes cover 64 partitions (⌈M/3⌉ = ${Math.ceil(M / 3)}), ${viaPrimary} of them through their primary`);
    t.equal(cover.uncovered.length, 0);
  }
  const ring = ringOf(namedMembers(5), 64);
  const cover = coveringSet(ring, (m) => m === 'node-0');
  t.same(cover.entries.map((e) => e.node), ['node-0']);
  t.equal(cover.uncovered.length, 64 - ring.owners.filter((o) => o.includes('node-0')).length, 'partitions with no up owner are reported, not answered from fallbacks');
});
