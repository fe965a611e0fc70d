// A quorum read's round (read-round.ts): it asks R replicas first (this node's first), more only
// when those cannot make R — at once on a failure or an answer that does not count, or all of
// them at the hedge — resolves at R, fails clearly when R cannot be had, and hands read repair
// every outcome of what it asked once all settled.
import t from 'tap';
import { NoQuorumError, QuorumTimeoutError, ReadRound, readOrder, type Outcome, type RouteEntry } from '@shoal/ring';

type Reply = { ok: true; v: string; absent?: boolean };

function round(n: number, needed: number, countsIfOk: (i: number) => boolean = () => true) {
  const asked: number[] = [];
  let all: readonly (Outcome<Reply> | undefined)[] | undefined;
  const r = new ReadRound<Reply>(
    Array.from({ length: n }, (_, i) => i),
    needed,
    {
      countsIfOk,
      counts: (reply, i) => countsIfOk(i) && !reply.absent,
      ask: (i) => void asked.push(i),
      what: () => 'read of b/k',
      allSettled: (o) => (all = o),
    },
  );
  r.start();
  return { r, asked, allSettled: () => all };
}
const ok = (v: string, absent = false): Outcome<Reply> => ({ ok: true, reply: { ok: true, v, ...(absent ? { absent } : {}) } });
const fail = (code: 'timeout' | 'no-quorum'): Outcome<Reply> => ({ ok: false, code, why: `x ${code}` });

t.test('asks R first and resolves at R; read repair sees what was asked once it settled', async (t) => {
  const { r, asked, allSettled } = round(3, 2);
  t.same(asked, [0, 1]);
  r.settle(0, ok('a'));
  t.notOk(r.isDone);
  r.settle(1, ok('b'));
  const res = await r.promise;
  t.equal(res.counted, 2);
  t.same(res.replies.map((x) => x?.v), ['a', 'b', undefined]);
  t.same(asked, [0, 1], 'the third replica is never asked');
  t.equal(allSettled()?.length, 3);
  r.hedge();
  t.same(asked, [0, 1], 'no hedge after the round is over');
});

t.test('a failure or an answer that does not count asks the next replica at once', async (t) => {
  const a = round(3, 2);
  a.r.settle(1, fail('no-quorum'));
  t.same(a.asked, [0, 1, 2]);
  a.r.settle(0, ok('a'));
  a.r.settle(2, ok('c'));
  t.equal((await a.r.promise).counted, 2);

  const b = round(3, 2);
  b.r.settle(0, ok('a', true));
  t.same(b.asked, [0, 1, 2], 'an absent from an old holder does not count');
  b.r.settle(1, ok('b'));
  t.notOk(b.r.isDone);
  b.r.settle(2, ok('c'));
  t.equal((await b.r.promise).counted, 2);
});

t.test('the hedge asks every replica not asked yet; answers beyond R still reach read repair', async (t) => {
  const { r, asked, allSettled } = round(4, 2);
  r.settle(0, ok('a'));
  r.hedge();
  t.same(asked, [0, 1, 2, 3]);
  r.settle(2, ok('c'));
  t.equal((await r.promise).counted, 2);
  t.equal(allSettled(), undefined, 'repair waits for the replicas still out');
  r.settle(1, ok('b'));
  r.settle(3, fail('timeout'));
  t.equal(allSettled()?.filter((o) => o !== undefined).length, 4);
});

t.test('R out of reach: no quorum, or timeout when a replica timed out; settling twice changes nothing', async (t) => {
  const a = round(3, 2);
  a.r.settle(0, fail('no-quorum'));
  a.r.settle(0, ok('late'));
  a.r.settle(1, fail('no-quorum'));
  a.r.settle(2, ok('c'));
  await t.rejects(a.r.promise, NoQuorumError);
  t.match(((await a.r.promise.catch((e: unknown) => e)) as Error).message, /1 of the 2 replicas needed answered \(x no-quorum; x no-quorum\)/);

  const b = round(2, 2);
  b.r.settle(0, fail('timeout'));
  b.r.settle(1, ok('b'));
  await t.rejects(b.r.promise, QuorumTimeoutError);
});

t.test('an entry whose answer cannot count never makes R: the round asks on until R is possible', async (t) => {
  const { r, asked } = round(3, 2, (i) => i !== 0);
  t.same(asked, [0, 1, 2], 'entry 0 cannot count, so two more are asked');
  r.settle(0, ok('new owner'));
  r.settle(1, ok('b'));
  r.settle(2, ok('c'));
  t.equal((await r.promise).counted, 2);
});

t.test('readOrder: this node first among the counting entries, then the others, non-counting last', async (t) => {
  const e = (node: string, counts = true): RouteEntry => ({ role: 'primary', node, counts });
  t.same(readOrder([e('a'), e('b', false), e('self'), e('c')], 'self'), [2, 0, 3, 1]);
  t.same(readOrder([e('a'), e('b')], 'self'), [0, 1]);
});
