import t from 'tap';
import {
  applyHealthDelta,
  BroadcastQueue,
  expectedConfirmations,
  failedProbeDelta,
  retransmitLimit,
  scaleByHealth,
  Suspicion,
  suspicionBoundsMs,
  suspicionTimeoutMs,
  swimConfig,
  SwimConfigError,
  type SwimMessage,
} from '@shoal/swim';

t.test('suspicion bounds: suspicionMult × max(1, log10 n) × probe interval, max = mult × min', async (t) => {
  const table: [number, number, number][] = [
    // n, minMs, maxMs with lan settings (mult 4, max mult 6, probe 1 s)
    [1, 4000, 24000],
    [5, 4000, 24000],
    [10, 4000, 24000],
    [100, 8000, 48000],
    [1000, 12000, 72000],
  ];
  for (const [n, min, max] of table) {
    const b = suspicionBoundsMs(4, 6, 1000, n);
    t.equal(Math.round(b.minMs), min, `min at n=${n}`);
    t.equal(Math.round(b.maxMs), max, `max at n=${n}`);
  }
  const b50 = suspicionBoundsMs(4, 6, 1000, 50);
  t.equal(Math.round(b50.minMs), Math.round(4000 * Math.log10(50)));
});

t.test('suspicion timeout shrinks from max to min with confirmations (Lifeguard)', async (t) => {
  // k = 3, min 2 s, max 30 s — memberlist's own table test uses these numbers.
  const cases: [number, number][] = [
    [0, 30000],
    [1, 16000],
    [2, 7810],
    [3, 2000],
    [4, 2000],
  ];
  for (const [c, want] of cases) t.equal(suspicionTimeoutMs(c, 3, 2000, 30000), want, `${c} confirmations`);
  t.equal(suspicionTimeoutMs(0, 0, 2000, 30000), 2000, 'k = 0: the minimum at once');
});

t.test('expected confirmations: suspicionMult − 2, or 0 in clusters too small to confirm', async (t) => {
  t.equal(expectedConfirmations(4, 100), 2);
  t.equal(expectedConfirmations(4, 4), 2);
  t.equal(expectedConfirmations(4, 3), 0);
  t.equal(expectedConfirmations(2, 100), 0);
});

t.test('a suspicion counts each confirmer once, never its originator, up to k', async (t) => {
  const s = new Suspicion(1000, 2, 4000, 24000, 'a');
  t.equal(s.deadlineMs(), 1000 + 24000);
  t.notOk(s.confirm('a'), 'the originator is not a confirmation');
  t.ok(s.confirm('b'));
  t.notOk(s.confirm('b'), 'one confirmation per member');
  t.equal(s.deadlineMs(), 1000 + suspicionTimeoutMs(1, 2, 4000, 24000));
  t.ok(s.confirm('c'));
  t.notOk(s.confirm('d'), 'no more than k');
  t.equal(s.deadlineMs(), 1000 + 4000);
});

t.test('local health: bounded score, scaled timeouts, failed-probe penalty from missing nacks', async (t) => {
  t.equal(applyHealthDelta(0, -1, 8), 0);
  t.equal(applyHealthDelta(7, 1, 8), 7);
  t.equal(applyHealthDelta(3, 2, 8), 5);
  t.equal(scaleByHealth(500, 0), 500);
  t.equal(scaleByHealth(500, 3), 2000);
  t.equal(failedProbeDelta(0, 0), 1, 'no nack peers: penalty 1');
  t.equal(failedProbeDelta(3, 3), 0, 'all nacks came: the target is the problem, not us');
  t.equal(failedProbeDelta(3, 1), 2, 'two missing nacks: we probably cannot hear');
});

t.test('retransmit limit: mult × ceil(log10(n + 1))', async (t) => {
  t.equal(retransmitLimit(4, 1), 4);
  t.equal(retransmitLimit(4, 9), 4);
  t.equal(retransmitLimit(4, 10), 8);
  t.equal(retransmitLimit(4, 100), 12);
});

t.test('broadcast queue: newer replaces older, least transmitted first, retired at the limit, bounded', async (t) => {
  const q = new BroadcastQueue(3);
  const alive = (name: string, inc: number): SwimMessage => ({ t: 'alive', name, inc, meta: { role: 'core', version: '1', addresses: { gossip: 'g', cluster: 'c' }, tags: {} } });
  q.queue('a', alive('a', 1), 50);
  q.queue('a', alive('a', 2), 50);
  t.equal(q.size, 1);
  q.queue('b', alive('b', 1), 50);
  const first = q.take(1000, 1, 2);
  t.same(first.map((m) => m.t === 'alive' && m.inc), [1, 2], 'newest first among equals');
  q.queue('c', alive('c', 1), 50);
  const second = q.take(1000, 1, 2);
  t.equal(second[0]?.t === 'alive' && second[0].name, 'c', 'least transmitted first');
  t.equal(q.size, 1, 'a and b retired after 2 transmissions');
  t.same(q.take(10, 1, 2), [], 'nothing fits a tiny budget');
  q.queue('d', alive('d', 1), 50);
  q.queue('e', alive('e', 1), 50);
  q.queue('f', alive('f', 1), 50);
  t.equal(q.size, 3, 'bounded');
  t.notOk(q.has('c'), 'the most transmitted was dropped');
});

t.test('config: presets validated and frozen, bad values rejected with a reason', async (t) => {
  const lan = swimConfig('lan');
  t.equal(lan.probeIntervalMs, 1000);
  t.equal(lan.probeTimeoutMs, 500);
  t.equal(lan.indirectChecks, 3);
  t.equal(lan.suspicionMult, 4);
  t.equal(lan.suspicionMaxTimeoutMult, 6);
  t.equal(lan.gossipIntervalMs, 200);
  t.equal(lan.gossipNodes, 3);
  t.equal(lan.pushPullIntervalMs, 30000);
  t.equal(lan.healthMax, 8);
  t.ok(Object.isFrozen(lan));
  t.throws(() => swimConfig('lan', { probeTimeoutMs: 1500 }), SwimConfigError);
  t.throws(() => swimConfig('lan', { indirectChecks: -1 }), SwimConfigError);
  t.throws(() => swimConfig('lan', { gossipNodes: 1.5 }), SwimConfigError);
  t.equal(swimConfig('local', { probeIntervalMs: 300, probeTimeoutMs: 100 }).probeIntervalMs, 300);
});
