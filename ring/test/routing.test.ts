// Routing of one request: the preference list plus, while a partition moves, the old holders;
// new owners still receiving do not count towards R; the coordinator is a complete primary.
import t from 'tap';
import { commit, coordinatorOf, effectiveQuorum, indexTransfers, markTransfersDone, nothingStaged, noTransfers, route, RingView, stage, transfersAfterCommit, type Ring } from '@shoal/ring';
import { namedMembers, ringOf } from './helpers.js';

function joined(ring: Ring, node: string): Ring {
  const s = stage(ring, nothingStaged, { kind: 'join', node });
  if (!s.ok) throw s.error;
  const c = commit(ring, s.value, 'node-0');
  if (!c.ok) throw c.error;
  return c.value;
}

t.test('without transfers the route is the preference list', async (t) => {
  const ring = ringOf(namedMembers(5), 16);
  const r = route(ring, undefined, 3, () => true);
  t.equal(r.replicas, 3);
  t.same(r.entries.map((e) => [e.role, e.node, e.counts]), ring.owners[3]!.map((n) => ['primary', n, true]));
  const down = ring.owners[3]![0]!;
  const r2 = route(ring, undefined, 3, (n) => n !== down);
  t.equal(r2.entries.length, 3);
  t.match(r2.entries[2], { role: 'fallback', standsFor: down, counts: true });
  t.equal(coordinatorOf(r2)!.node, ring.owners[3]![1], 'the first up primary coordinates');
  t.same(route(ring, undefined, 3, () => false).entries.filter((e) => e.role === 'primary'), [], 'nobody up but the caller');
});

t.test('a bucket of n < N replicas uses the first n owners', async (t) => {
  const ring = ringOf(namedMembers(5), 16);
  const r = route(ring, undefined, 7, () => true, 2);
  t.equal(r.replicas, 2);
  t.same(r.entries.map((e) => e.node), ring.owners[7]!.slice(0, 2));
  const down = ring.owners[7]![0]!;
  const r2 = route(ring, undefined, 7, (n) => n !== down, 2);
  t.same(r2.entries.map((e) => e.role), ['primary', 'fallback']);
  t.notOk(r2.entries.some((e) => e.node === ring.owners[7]![2] && e.role === 'primary'), 'the third owner is not a primary of this bucket');
});

t.test('during a transfer: old holders are asked too, and receivers do not count', async (t) => {
  const ring = ringOf(namedMembers(4), 32);
  const next = joined(ring, 'node-9');
  const state = transfersAfterCommit(ring, undefined, next);
  const moved = state.transfers[0]!;
  const idx = indexTransfers(state);
  const r = route(next, idx, moved.partition, () => true);
  const leaving = r.entries.filter((e) => e.role === 'leaving').map((e) => e.node);
  t.ok(leaving.includes(moved.from), `old holder ${moved.from} is in the route`);
  const receiver = r.entries.find((e) => e.node === moved.to)!;
  t.equal(receiver.counts, false, 'the new owner does not count towards R while it receives');
  t.not(coordinatorOf(r)!.node, moved.to, 'a receiving owner does not coordinate when a complete one is up');
  t.notOk(route(next, idx, moved.partition, (n) => n !== moved.from).entries.some((e) => e.node === moved.from), 'a down old holder is left out');
  const doneIdx = indexTransfers(markTransfersDone(state, state.transfers.filter((x) => x.partition === moved.partition)));
  const after = route(next, doneIdx, moved.partition, () => true);
  t.same(after.entries.map((e) => [e.role, e.counts]), next.owners[moved.partition]!.map(() => ['primary', true]), 'once done: just the owners');
});

t.test('effective quorums are clipped to the replicas a partition has', async (t) => {
  t.equal(effectiveQuorum(2, 1), 1, 'a ring of one answers R=2 with its single replica');
  t.equal(effectiveQuorum(2, 3), 2);
  t.equal(effectiveQuorum(0, 3), 1);
});

t.test('the view keeps routes until the ring, the transfers or liveness change, and only with a change feed', async (t) => {
  const ring = ringOf(namedMembers(5), 16);
  const down = new Set<string>();
  const listeners = new Set<(node: string, up: boolean) => void>();
  const setUp = (node: string, up: boolean): void => {
    if (up) down.delete(node);
    else down.add(node);
    for (const fn of listeners) fn(node, up);
  };
  const view = new RingView('node-0', {
    isUp: (n) => !down.has(n),
    subscribe: (fn) => {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
  });
  view.publish(ring, noTransfers(ring));
  const first = view.route(3)!;
  t.equal(view.route(3), first, 'the same route object while nothing changes');
  t.equal(view.route(3, 99), first, 'a bucket asking for more than N replicas gets the ring-wide route');
  t.not(view.route(3, 2), first, 'a smaller bucket has its own');
  const owner = ring.owners[3]!.find((n) => n !== 'node-0')!;
  setUp(owner, false);
  const after = view.route(3)!;
  t.not(after, first, 'a liveness change drops the cached routes');
  t.match(after.entries.find((e) => e.role === 'fallback'), { standsFor: owner });
  const next = joined(ring, 'node-5');
  view.publish(next, transfersAfterCommit(ring, noTransfers(ring), next));
  t.not(view.route(3), after, 'a new ring drops them too');
  view.close();
  t.equal(listeners.size, 0, 'close unsubscribes');

  // Without a change feed nothing can say when a cached route went stale: computed every time.
  const blind = new RingView('node-0', { isUp: (n) => !down.has(n) });
  blind.publish(ring, noTransfers(ring));
  t.not(blind.route(3), blind.route(3));
  t.same(blind.route(3), blind.route(3));
});
