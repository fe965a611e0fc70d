// Staged membership: every refused change has its code and sentence; plans are deterministic;
// commit makes version + 1; replace moves exactly the old member's partitions; random sequences
// of staged changes keep every ownership invariant.
import t from 'tap';
import fc from 'fast-check';
import { bootstrapRing, clear, commit, membersMax, nothingStaged, plan, ringProblems, stage, stagedChangesMax } from '@shoal/ring';
import type { ChangeRequest, Ring, Staged, StageErrorCode } from '@shoal/ring';
import { fcOptions, loads, namedMembers, ringOf } from './helpers.js';

function stageAll(ring: Ring, requests: readonly ChangeRequest[]): Staged {
  let staged = nothingStaged;
  for (const r of requests) {
    const next = stage(ring, staged, r);
    if (!next.ok) throw next.error;
    staged = next.value;
  }
  return staged;
}

function commitAll(ring: Ring, requests: readonly ChangeRequest[], by = 'node-0'): Ring {
  const next = commit(ring, stageAll(ring, requests), by);
  if (!next.ok) throw next.error;
  return next.value;
}

t.test('a first node bootstraps a ring of one; joins are staged, planned and committed', async (t) => {
  const r1 = bootstrapRing({ clusterName: 'shoal', node: 'n1' });
  const staged = stageAll(r1, [{ kind: 'join', node: 'n2' }, { kind: 'join', node: 'n3', weight: 2 }]);
  t.same(staged.changes, [{ kind: 'join', node: 'n2', weight: 1 }, { kind: 'join', node: 'n3', weight: 2 }], 'a join weight defaults to 1');
  t.equal(r1.members.length, 1, 'staging changes nothing in the ring');
  const planned = plan(r1, staged, 'n1');
  if (!planned.ok) throw planned.error;
  const p = planned.value;
  t.equal(p.nextRing.version, 2);
  t.equal(p.nextRing.committedBy, 'n1');
  t.same(p.nextRing.members.map((m) => [m.name, m.weight]), [['n1', 1], ['n2', 1], ['n3', 2]]);
  t.equal(p.movedPartitions, 64, 'from one member to three with N=3: every partition gains owners');
  t.equal(p.transfersCount, 128, 'two new replicas per partition');
  t.equal(p.moves.length, p.movedPartitions);
  t.same(p.moves[0]!.from, ['n1']);
  t.equal(p.balance.members.length, 3);
  const committed = commit(r1, staged, 'n1');
  t.ok(committed.ok && committed.value.hash === p.nextRing.hash, 'commit is the planned ring');
  t.equal(clear(), nothingStaged);
  t.same(clear().changes, []);
});

t.test('refused changes: each with its code and one clear sentence', async (t) => {
  const ring = ringOf(namedMembers(3), 64);
  const cases: [ChangeRequest[], ChangeRequest, StageErrorCode, RegExp][] = [
    [[], { kind: 'join', node: 'node-1' }, 'already-member', /node-1 is already a ring member/],
    [[], { kind: 'join', node: 'x', weight: 0 }, 'invalid-weight', /weight of x must be an integer from 1 to 16/],
    [[], { kind: 'join', node: 'x', weight: 2.5 }, 'invalid-weight', /weight/],
    [[], { kind: 'join', node: '' }, 'invalid-name', /must not be empty/],
    [[], { kind: 'join', node: 'a\tb' }, 'invalid-name', /control character/],
    [[{ kind: 'join', node: 'x' }], { kind: 'join', node: 'x' }, 'already-staged', /x already has a staged change \(join\); clear it first/],
    [[], { kind: 'leave', node: 'ghost' }, 'unknown-member', /ghost is not a ring member/],
    [[], { kind: 'remove', node: 'ghost' }, 'unknown-member', /ghost is not a ring member/],
    [[{ kind: 'leave', node: 'node-1' }], { kind: 'remove', node: 'node-1' }, 'already-staged', /node-1 already has a staged change \(leave\)/],
    [[{ kind: 'leave', node: 'node-1' }, { kind: 'leave', node: 'node-2' }], { kind: 'leave', node: 'node-0' }, 'last-member', /node-0 is the last ring member/],
    [[], { kind: 'replace', node: 'node-0', replacement: 'node-1' }, 'already-member', /node-1 is already a ring member/],
    [[], { kind: 'replace', node: 'ghost', replacement: 'y' }, 'unknown-member', /ghost is not a ring member/],
    [[], { kind: 'replace', node: 'node-0', replacement: 'node-0' }, 'invalid-name', /cannot replace itself/],
    [[{ kind: 'join', node: 'y' }], { kind: 'replace', node: 'node-0', replacement: 'y' }, 'already-staged', /y already has a staged change \(join\)/],
    [[{ kind: 'replace', node: 'node-0', replacement: 'y' }], { kind: 'leave', node: 'y' }, 'already-staged', /y already has a staged change \(replace\)/],
    [[{ kind: 'join', node: 'x' }], { kind: 'leave', node: 'x' }, 'already-staged', /x already has a staged change \(join\)/],
  ];
  for (const [before, request, code, message] of cases) {
    const result = stage(ring, stageAll(ring, before), request);
    t.notOk(result.ok, `${JSON.stringify(request)} is refused`);
    if (!result.ok) {
      t.equal(result.error.name, 'StageError');
      t.equal(result.error.code, code);
      t.match(result.error.message, message);
    }
  }
  const nothing = plan(ring, nothingStaged);
  t.ok(!nothing.ok && nothing.error.code === 'nothing-staged', 'plan with nothing staged');
  const lonely = bootstrapRing({ clusterName: 'c', node: 'solo' });
  const last = stage(lonely, nothingStaged, { kind: 'remove', node: 'solo' });
  t.ok(!last.ok && last.error.code === 'last-member', 'the last member cannot be removed');
  const replaceSolo = stage(lonely, nothingStaged, { kind: 'replace', node: 'solo', replacement: 'solo2' });
  t.ok(replaceSolo.ok, 'but it can be replaced');
});

t.test('limits: staged changes and members', async (t) => {
  const ring = ringOf(namedMembers(membersMax - 1), 64);
  const full = stage(ring, nothingStaged, { kind: 'join', node: 'one-more' });
  t.ok(full.ok, 'up to membersMax');
  const over = full.ok ? stage(ring, full.value, { kind: 'join', node: 'two-more' }) : full;
  t.ok(!over.ok && over.error.code === 'members-max', 'one past membersMax is refused');
  const small = ringOf(namedMembers(2), 8);
  let staged = nothingStaged;
  for (let i = 0; i < stagedChangesMax; i++) {
    const next = stage(small, staged, { kind: 'join', node: `j${i}` });
    if (!next.ok) throw next.error;
    staged = next.value;
  }
  const tooMany = stage(small, staged, { kind: 'join', node: 'straw' });
  t.ok(!tooMany.ok && tooMany.error.code === 'staged-max', `at most ${stagedChangesMax} staged changes`);
});

t.test('staged changes are checked again at plan time (the ring may have moved on)', async (t) => {
  const r1 = ringOf(namedMembers(3), 64);
  const staged = stageAll(r1, [{ kind: 'join', node: 'x' }]);
  const r2 = commitAll(r1, [{ kind: 'join', node: 'x' }]);
  const stale = plan(r2, staged);
  t.ok(!stale.ok && stale.error.code === 'already-member', 'refused with the reason, never half applied');
});

t.test('replace OLD NEW moves exactly OLD\'s partitions to NEW', async (t) => {
  const ring = ringOf(namedMembers(6, 'node-', (i) => 1 + (i % 3)), 128);
  const planned = plan(ring, stageAll(ring, [{ kind: 'replace', node: 'node-2', replacement: 'fresh' }]));
  if (!planned.ok) throw planned.error;
  const p = planned.value;
  const oldOwned = loads(ring).owned.get('node-2')!;
  t.equal(p.movedPartitions, oldOwned, 'one move per partition of OLD');
  t.equal(p.transfersCount, oldOwned, 'one replica each');
  for (const move of p.moves) t.same(move.to, move.from.map((m) => (m === 'node-2' ? 'fresh' : m)), `partition ${move.partition}: same owners, same order, OLD renamed`);
  t.equal(p.primaryChanges, p.moves.filter((m) => m.from[0] === 'node-2').length, 'primaries change only where OLD was primary');
  t.same(p.leaving, ['node-2'], 'OLD hands its partitions off');
  t.same(p.nextRing.members.find((m) => m.name === 'fresh'), { name: 'fresh', weight: 3, token: 'node-2' }, 'NEW inherits weight and token');
  // A later node that happens to be called like the replaced one gets a fresh token.
  const after = commitAll(p.nextRing, [{ kind: 'join', node: 'node-2' }]);
  t.equal(after.members.find((m) => m.name === 'node-2')?.token, 'node-2~2');
});

t.test('leave and remove: both drop the member; the plan says who hands off and who is dead', async (t) => {
  const ring = ringOf(namedMembers(6), 64);
  const planned = plan(ring, stageAll(ring, [{ kind: 'leave', node: 'node-1' }, { kind: 'remove', node: 'node-4' }]));
  if (!planned.ok) throw planned.error;
  t.same(planned.value.leaving, ['node-1']);
  t.same(planned.value.removed, ['node-4']);
  t.same(planned.value.nextRing.members.map((m) => m.name), ['node-0', 'node-2', 'node-3', 'node-5']);
  t.ok(planned.value.nextRing.owners.every((o) => !o.includes('node-1') && !o.includes('node-4')));
});

const requestArb = (names: readonly string[]): fc.Arbitrary<ChangeRequest> =>
  fc.oneof(
    fc.record({ kind: fc.constant('join' as const), node: fc.constantFrom(...names), weight: fc.integer({ min: 1, max: 4 }) }),
    fc.record({ kind: fc.constant('leave' as const), node: fc.constantFrom(...names) }),
    fc.record({ kind: fc.constant('remove' as const), node: fc.constantFrom(...names) }),
    fc.record({ kind: fc.constant('replace' as const), node: fc.constantFrom(...names), replacement: fc.constantFrom(...names) }),
  );

t.test('random staged sequences: deterministic plans, version + 1, invariants after every commit', async (t) => {
  const names = Array.from({ length: 10 }, (_, i) => `n${i}`);
  let commits = 0;
  fc.assert(
    fc.property(fc.array(fc.array(requestArb(names), { maxLength: 4 }), { minLength: 1, maxLength: 6 }), fc.constantFrom(16, 64), (rounds, P) => {
      let ring = bootstrapRing({ clusterName: 'c', node: 'n0', partitionCount: P });
      for (const requests of rounds) {
        let staged = nothingStaged;
        for (const r of requests) {
          const next = stage(ring, staged, r);
          if (next.ok) staged = next.value;
        }
        if (staged.changes.length === 0) continue;
        const a = plan(ring, staged, 'n0');
        const b = plan(ring, staged, 'n0');
        if (!a.ok || !b.ok) return false;
        if (JSON.stringify(a.value) !== JSON.stringify(b.value)) return false;
        const next = a.value.nextRing;
        if (next.version !== ring.version + 1) return false;
        if (ringProblems(next).length > 0) return false;
        ring = next;
        commits++;
      }
      return true;
    }),
    fcOptions(60),
  );
  t.comment(`${commits} commits checked`);
  t.ok(commits > 50, 'the sequences commit often enough to mean something');
});
