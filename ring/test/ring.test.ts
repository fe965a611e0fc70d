// Ring state: validation with clear errors, frozen values, bootstrap, the persisted form, and
// version/conflict resolution (a total order, so every node converges on the same ring).
import t from 'tap';
import fc from 'fast-check';
import { RingConfigError, RingMismatchError, bootstrapRing, chooseRing, compareRings, makeRing, memberOf, ringProblems, ringToData, weightMax, membersMax } from '@shoal/ring';
import type { RingData } from '@shoal/ring';
import { fcOptions, membersArb, namedMembers } from './helpers.js';

const base: RingData = { clusterName: 'c', origin: 'a', partitionCount: 8, replication: 3, version: 1, committedBy: 'a', members: namedMembers(3) };

t.test('bootstrap makes a frozen ring of one at version 1', async (t) => {
  const ring = bootstrapRing({ clusterName: 'shoal', node: 'n1' });
  t.equal(ring.version, 1);
  t.equal(ring.partitionCount, 64);
  t.equal(ring.replication, 3);
  t.same(ring.members, [{ name: 'n1', weight: 1, token: 'n1' }]);
  t.ok(ring.owners.every((o) => o.length === 1 && o[0] === 'n1'), 'a ring of one owns everything once');
  t.ok(Object.isFrozen(ring) && Object.isFrozen(ring.members) && Object.isFrozen(ring.owners) && Object.isFrozen(ring.owners[0]) && Object.isFrozen(ring.members[0]));
  t.equal(memberOf(ring, 'n1')?.weight, 1);
  t.equal(memberOf(ring, 'n2'), undefined);
  t.same(ringProblems(ring), []);
});

t.test('ringProblems reports a ring whose owners were tampered with', async (t) => {
  const ring = makeRing(base);
  const owners = ring.owners.map((o, p) => (p === 3 ? [o[0]!, o[0]!, 'stranger'] : [...o]));
  const forged = { ...ring, owners };
  t.same(ringProblems(forged).slice(0, 2), ['partition 3 has owners [' + [ring.owners[3]![0], ring.owners[3]![0], 'stranger'].join(', ') + '], not 3 distinct members', 'partition 3 is owned by stranger, who is not a member']);
});

t.test('invalid ring data is refused with RingConfigError and one clear sentence', async (t) => {
  const bad: [Partial<RingData>, RegExp][] = [
    [{ partitionCount: 48 }, /power of two/],
    [{ partitionCount: 8192 }, /power of two from 1 to 4096/],
    [{ replication: 0 }, /replication factor/],
    [{ version: 0 }, /version/],
    [{ version: 1.5 }, /version/],
    [{ members: [] }, /at least one member/],
    [{ clusterName: '' }, /cluster name must not be empty/],
    [{ clusterName: 'x'.repeat(65) }, /longer than 64 bytes/],
    [{ origin: 'a\nb' }, /control character/],
    [{ members: [{ name: 'a', weight: 1, token: 'a' }, { name: 'a', weight: 2, token: 'b' }] }, /appears twice/],
    [{ members: [{ name: 'a', weight: 1, token: 't' }, { name: 'b', weight: 1, token: 't' }] }, /used by two members/],
    [{ members: [{ name: 'a', weight: 0, token: 'a' }] }, /weight of a/],
    [{ members: [{ name: 'a', weight: weightMax + 1, token: 'a' }] }, /weight of a/],
    [{ members: [{ name: '\ud800', weight: 1, token: 'x' }] }, /lone surrogate/],
    [{ members: namedMembers(membersMax + 1) }, /at most 256 members/],
    [{ members: namedMembers(80, 'w', () => 16) }, /add up to 1280/],
  ];
  for (const [patch, message] of bad) t.throws(() => makeRing({ ...base, ...patch }), { name: 'RingConfigError', message }, JSON.stringify(patch).slice(0, 60));
  t.throws(() => makeRing({ ...base, partitionCount: 3 }), RingConfigError);
});

t.test('ringToData round-trips; member order does not matter', async (t) => {
  fc.assert(
    fc.property(membersArb(1, 8), (members) => {
      const ring = makeRing({ ...base, members });
      const again = makeRing(ringToData(ring));
      const shuffled = makeRing({ ...base, members: [...members].reverse() });
      return again.hash === ring.hash && JSON.stringify(again) === JSON.stringify(ring) && shuffled.hash === ring.hash;
    }),
    fcOptions(50),
  );
  t.same(Object.keys(ringToData(makeRing(base))).sort(), ['clusterName', 'committedBy', 'members', 'origin', 'partitionCount', 'replication', 'version']);
});

t.test('higher version wins; equal versions resolve by content hash', async (t) => {
  const v1 = makeRing(base);
  const v2 = makeRing({ ...base, version: 2, members: namedMembers(4) });
  t.equal(compareRings(v1, v2), -1);
  t.equal(compareRings(v2, v1), 1);
  t.equal(chooseRing(v1, v2), v2, 'a newer ring is adopted');
  t.equal(chooseRing(v2, v1), v2, 'an older ring is ignored');
  t.equal(compareRings(v1, makeRing(base)), 0, 'identical content is the same ring');
  // Two nodes commit version 2 concurrently: different content, or the same members committed by different nodes.
  const x = makeRing({ ...base, version: 2, committedBy: 'node-0', members: namedMembers(4) });
  const y = makeRing({ ...base, version: 2, committedBy: 'node-1', members: namedMembers(4) });
  const z = makeRing({ ...base, version: 2, committedBy: 'node-1', members: namedMembers(2) });
  for (const [a, b] of [[x, y], [x, z], [y, z], [v2, x]] as const) {
    t.not(compareRings(a, b), 0, 'a conflict is never a tie');
    t.equal(chooseRing(a, b), chooseRing(b, a), 'every node picks the same winner, whatever it heard first');
    t.equal(compareRings(a, b), -compareRings(b, a), 'antisymmetric');
  }
  const winner = [x, y, z, v2].reduce(chooseRing);
  t.equal([z, v2, y, x].reduce(chooseRing), winner, 'order of arrival does not matter');
});

t.test('rings that must never replace each other are refused', async (t) => {
  const ring = makeRing(base);
  const cases: [Partial<RingData>, string][] = [
    [{ clusterName: 'other' }, 'clusterName'],
    [{ origin: 'b' }, 'origin'],
    [{ partitionCount: 16 }, 'partitionCount'],
    [{ replication: 2 }, 'replication'],
  ];
  for (const [patch, field] of cases) {
    const other = makeRing({ ...base, ...patch, version: 9 });
    t.throws(() => chooseRing(ring, other), RingMismatchError, field);
    try {
      compareRings(ring, other);
    } catch (e) {
      t.equal((e as RingMismatchError).field, field);
    }
  }
});
