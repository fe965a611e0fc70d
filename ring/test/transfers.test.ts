// Transfer state (riak_core's `next` list): which copies a commit owes, how they carry over a
// second commit made before they finished, and the merge/validation rules of the gossiped state.
import t from 'tap';
import fc from 'fast-check';
import {
  commit,
  indexTransfers,
  markTransfersDone,
  mergeTransferStates,
  noTransfers,
  nothingStaged,
  pendingSources,
  pendingTargets,
  pendingTransfers,
  stage,
  summarizeTransfers,
  transferStateProblem,
  transfersAfterCommit,
  transfersBelongTo,
  type ChangeRequest,
  type Ring,
  type TransferState,
} from '@shoal/ring';
import { fcOptions, namedMembers, ringOf } from './helpers.js';

function commitChanges(ring: Ring, changes: ChangeRequest[]): { next: Ring; removed: string[] } {
  let staged = nothingStaged;
  for (const c of changes) {
    const s = stage(ring, staged, c);
    if (!s.ok) throw s.error;
    staged = s.value;
  }
  const r = commit(ring, staged, 'n');
  if (!r.ok) throw r.error;
  return { next: r.value, removed: changes.filter((c) => c.kind === 'remove').map((c) => c.node) };
}

t.test('a join: each moved partition gets a copy from the owner that departs, to the node that arrives', async (t) => {
  const ring = ringOf(namedMembers(4), 64);
  const { next } = commitChanges(ring, [{ kind: 'join', node: 'node-4' }]);
  const state = transfersAfterCommit(ring, undefined, next);
  t.ok(transfersBelongTo(state, next));
  t.ok(state.transfers.length > 0, `${state.transfers.length} transfers`);
  for (let p = 0; p < 64; p++) {
    const before = ring.owners[p]!;
    const after = next.owners[p]!;
    const mine = state.transfers.filter((x) => x.partition === p);
    const departing = before.filter((m) => !after.includes(m));
    const arriving = after.filter((m) => !before.includes(m));
    t.same(mine.map((x) => [x.from, x.to]).sort(), departing.flatMap((d) => arriving.map((a) => [d, a])).sort(), `partition ${p}`);
  }
  t.same(state.done, []);
});

t.test('a leave: the leaver sends every partition it owned; a remove: the staying owners rebuild the copy', async (t) => {
  const ring = ringOf(namedMembers(5), 32);
  const leave = commitChanges(ring, [{ kind: 'leave', node: 'node-2' }]);
  const sl = transfersAfterCommit(ring, undefined, leave.next);
  const owned = ring.owners.flatMap((o, p) => (o.includes('node-2') ? [p] : []));
  t.same([...new Set(sl.transfers.filter((x) => x.from === 'node-2').map((x) => x.partition))], owned, 'node-2 is a source of each partition it owned');
  t.notOk(sl.transfers.some((x) => x.to === 'node-2'), 'never a target');

  const rm = commitChanges(ring, [{ kind: 'remove', node: 'node-2' }]);
  const sr = transfersAfterCommit(ring, undefined, rm.next, rm.removed);
  t.notOk(sr.transfers.some((x) => x.from === 'node-2' || x.to === 'node-2'), 'a removed node neither sends nor receives');
  for (const x of sr.transfers) {
    t.ok(ring.owners[x.partition]!.includes(x.from) && rm.next.owners[x.partition]!.includes(x.from), 'sources are staying owners');
    t.notOk(ring.owners[x.partition]!.includes(x.to), 'targets are arrivals');
  }
  t.same([...new Set(sr.transfers.map((x) => x.partition))], owned, 'each partition the dead node owned is rebuilt');
});

t.test('a second commit before the transfers finished keeps the old holders as sources', async (t) => {
  const ring = ringOf(namedMembers(4), 32);
  const one = commitChanges(ring, [{ kind: 'leave', node: 'node-1' }]);
  const s1 = transfersAfterCommit(ring, undefined, one.next);
  const two = commitChanges(one.next, [{ kind: 'join', node: 'node-9' }]);
  const s2 = transfersAfterCommit(one.next, s1, two.next);
  for (const p of ring.owners.flatMap((o, i) => (o.includes('node-1') ? [i] : []))) {
    t.ok(pendingSources(s2, p).includes('node-1'), `node-1 still owes partition ${p}`);
  }
  // Had node-1 finished everything, it would owe nothing after the second commit.
  const finished = markTransfersDone(s1, s1.transfers);
  const s2done = transfersAfterCommit(one.next, finished, two.next);
  t.notOk(s2done.transfers.some((x) => x.from === 'node-1'), 'finished sources are forgotten');
  // A state of another ring is ignored.
  t.same(transfersAfterCommit(one.next, noTransfers(ring), two.next), transfersAfterCommit(one.next, undefined, two.next));
});

t.test('done marks: idempotent, merged by union for one ring, never across rings', async (t) => {
  const ring = ringOf(namedMembers(3), 16);
  const { next } = commitChanges(ring, [{ kind: 'join', node: 'node-7' }]);
  const s = transfersAfterCommit(ring, undefined, next);
  const [a, b] = [s.transfers[0]!, s.transfers[1]!];
  const sa = markTransfersDone(s, [a]);
  t.equal(markTransfersDone(sa, [a]), sa, 'marking twice changes nothing');
  t.equal(markTransfersDone(s, [{ partition: 99, from: 'x', to: 'y' }]), s, 'unknown transfers are ignored');
  const sb = markTransfersDone(s, [b]);
  const merged = mergeTransferStates(sa, sb);
  t.equal(merged.done.length, 2);
  t.same(mergeTransferStates(sb, sa).done, merged.done, 'commutative');
  t.equal(mergeTransferStates(merged, sa), merged, 'absorbing');
  t.equal(mergeTransferStates(sa, noTransfers(next)), sa, 'a stand-in empty state of the same ring gives way');
  t.equal(mergeTransferStates(noTransfers(next), sa), sa);
  const other = noTransfers(ring);
  t.equal(mergeTransferStates(sa, other), sa, 'another ring: unchanged');
  t.same(pendingTransfers(merged).length, s.transfers.length - 2);
  const idx = indexTransfers(merged);
  t.equal(idx.pendingCount, s.transfers.length - 2);
  for (const x of pendingTransfers(merged)) {
    t.ok(idx.sources.get(x.partition)!.includes(x.from) && pendingTargets(merged, x.partition).includes(x.to));
  }
  const summary = summarizeTransfers(merged);
  t.equal(summary.pending + summary.done, summary.total);
  t.equal(summary.byNode.reduce((n, x) => n + x.sending, 0), summary.pending);
});

t.test('transfer states from storage or peers are validated', async (t) => {
  const ring = ringOf(namedMembers(3), 16);
  const { next } = commitChanges(ring, [{ kind: 'join', node: 'node-7' }]);
  const good = markTransfersDone(transfersAfterCommit(ring, undefined, next), []);
  t.equal(transferStateProblem(good, 16), undefined);
  const bad: [unknown, RegExp][] = [
    [null, /object/],
    [{ ...good, version: 'x' }, /version/],
    [{ ...good, transfers: 3 }, /lists/],
    [{ ...good, transfers: [{ partition: 16, from: 'a', to: 'b' }] }, /partition/],
    [{ ...good, transfers: [...good.transfers].reverse() }, /sorted/],
    [{ ...good, done: [0, 0] }, /ascending/],
    [{ ...good, done: [good.transfers.length] }, /ascending/],
  ];
  for (const [x, re] of bad) t.match(transferStateProblem(x, 16), re);
});

t.test('property: after any commit, every arrival of a partition that keeps a live holder has a source', async (t) => {
  const scenario = fc.record({
    m: fc.integer({ min: 2, max: 7 }),
    kind: fc.constantFrom('join', 'leave', 'remove', 'replace'),
    who: fc.nat(),
    P: fc.constantFrom(8, 16, 32),
    second: fc.boolean(),
  });
  fc.assert(
    fc.property(scenario, ({ m, kind, who, P, second }) => {
      const ring = ringOf(namedMembers(m), P);
      const victim = `node-${who % m}`;
      const change: ChangeRequest = kind === 'join' ? { kind, node: 'new' } : kind === 'replace' ? { kind, node: victim, replacement: 'new' } : { kind, node: victim };
      const one = commitChanges(ring, [change]);
      let state: TransferState = transfersAfterCommit(ring, undefined, one.next, one.removed);
      let prev = one.next;
      if (second && one.next.members.length > 1) {
        const two = commitChanges(one.next, [{ kind: 'join', node: 'later' }]);
        state = transfersAfterCommit(one.next, state, two.next, two.removed);
        prev = two.next;
      }
      for (const x of state.transfers) {
        if (x.from === x.to || !prev.owners[x.partition]!.includes(x.to)) return false; // targets are owners
      }
      for (let p = 0; p < P; p++) {
        const arrivals = prev.owners[p]!.filter((o) => !ring.owners[p]!.includes(o));
        const live = ring.owners[p]!.some((o) => !one.removed.includes(o));
        for (const a of arrivals) if (live && !state.transfers.some((x) => x.partition === p && x.to === a)) return false;
      }
      return true;
    }),
    fcOptions(150),
  );
  t.pass('holds');
});
