/**
 * The record publisher on simulated time: it publishes on change (coalescing a burst into one
 * write of the latest record), one publish at a time, stays with a core node that answers, fails
 * over in name order with a doubling wait, refreshes an unchanged record, and says so when the
 * store holds a newer revision than its own.
 */
import t from 'tap';
import { Sim } from '@shoal/sim';
import type { HypervisorRecord, RecordPublishResult } from '@shoal/wire';
import { AgentRequestError } from '../src/client.js';
import { RecordPublisher, compareRevision, type Revision } from '../src/publisher.js';

interface Call {
  core: string;
  revision: Revision;
  atMs: number;
  settle(result: RecordPublishResult | Error): void;
}

function harness(opts: { cores?: string[]; intervalMs?: number; refreshMs?: number; backoffMaxMs?: number } = {}) {
  const sim = new Sim({ seed: 7, logLevel: 'error' });
  const node = sim.addNode('agent');
  const clock = node.world.clock;
  const warnings: string[] = [];
  const log = { ...node.world.logger, warn: (msg: string) => void warnings.push(msg), child: () => log } as typeof node.world.logger;
  const state = { seq: 0, cores: opts.cores ?? ['core-a', 'core-b', 'core-c'] };
  const calls: Call[] = [];
  const pub = new RecordPublisher({
    clock,
    log,
    record: () => ({ name: 'hv1', revision: { boot: 1000, seq: state.seq } }) as unknown as HypervisorRecord,
    revision: () => ({ boot: 1000, seq: state.seq }),
    cores: () => state.cores,
    send: (core, record) =>
      new Promise<RecordPublishResult>((resolve, reject) => {
        calls.push({ core, revision: record.revision, atMs: clock.monoMs(), settle: (r) => (r instanceof Error ? reject(r) : resolve(r)) });
      }),
    intervalMs: opts.intervalMs ?? 250,
    refreshMs: opts.refreshMs ?? 60_000,
    backoffMaxMs: opts.backoffMaxMs ?? 4_000,
  });
  return { sim, clock, pub, calls, state, warnings };
}

const ok = (revision: Revision, written = true): RecordPublishResult => ({ written, revision });

t.test('publishes at start, then only when the revision moves; a burst is one write of the latest', async (t) => {
  const h = harness();
  h.pub.start();
  await h.sim.runFor(10);
  t.equal(h.calls.length, 1, 'one publish at start');
  t.equal(h.calls[0]?.core, 'core-a', 'to the first core node by name');
  h.calls[0]!.settle(ok({ boot: 1000, seq: 0 }));
  await h.sim.runFor(2_000);
  t.equal(h.calls.length, 1, 'nothing changed: nothing sent');
  t.ok(h.pub.current);

  h.state.seq = 1;
  await h.sim.runFor(300);
  t.equal(h.calls.length, 2, 'a change is published within one interval');
  // A burst of changes while that publish is in flight.
  for (let i = 2; i <= 50; i++) h.state.seq = i;
  await h.sim.runFor(1_000);
  t.equal(h.calls.length, 2, 'one publish in flight at a time');
  h.calls[1]!.settle(ok({ boot: 1000, seq: 1 }));
  await h.sim.runFor(300);
  t.equal(h.calls.length, 3);
  t.same(h.calls[2]?.revision, { boot: 1000, seq: 50 }, 'the burst goes out as one publish of the latest record');
  h.calls[2]!.settle(ok({ boot: 1000, seq: 50 }));
  await h.sim.runFor(1_000);
  t.equal(h.calls.length, 3);
  t.same(h.pub.stats, { written: 3, unchanged: 0, failed: 0, stored: { boot: 1000, seq: 50 }, core: 'core-a', lastError: undefined });
  h.pub.stop();
});

t.test('fails over in name order with a doubling wait up to the cap, then stays with the node that answers', async (t) => {
  const h = harness({ backoffMaxMs: 4_000 });
  h.pub.start();
  // Answer each publish at once with a failure, seven times.
  const failures = 7;
  for (let i = 0; i < failures; i++) {
    await h.sim.runUntil(() => h.calls.length > i, { timeoutMs: 60_000, what: `publish ${i}` });
    h.calls[i]!.settle(new AgentRequestError('unavailable', 'no quorum'));
  }
  await h.sim.runUntil(() => h.calls.length > failures, { timeoutMs: 60_000, what: 'the publish after the failures' });
  t.same(
    h.calls.map((c) => c.core),
    ['core-a', 'core-b', 'core-c', 'core-a', 'core-b', 'core-c', 'core-a', 'core-b'],
    'each failure moves to the next core node by name, wrapping',
  );
  const gaps = h.calls.slice(1).map((c, i) => c.atMs - h.calls[i]!.atMs);
  // The wait after the k-th failure is 250 · 2^(k−1) ms, capped at 4 s; publishes start on the 250 ms ticks.
  const expected = [250, 500, 1_000, 2_000, 4_000, 4_000, 4_000];
  gaps.forEach((g, i) => t.ok(g >= expected[i]! && g < expected[i]! + 250, `wait after failure ${i + 1}: ${g} ms (expected ${expected[i]} ms, on a tick)`));
  t.equal(h.pub.stats.failed, failures);
  t.match(h.pub.stats.lastError, /no quorum/);
  t.notOk(h.pub.current);
  h.calls[failures]!.settle(ok({ boot: 1000, seq: 0 }));
  await h.sim.runFor(100);
  t.ok(h.pub.current);
  h.state.seq = 1;
  await h.sim.runFor(300);
  t.equal(h.calls[failures + 1]?.core, 'core-b', 'stays with the node that answered');
  t.equal(h.warnings.filter((w) => /cannot publish/.test(w)).length >= 1, true, 'failures are logged');
  h.pub.stop();
});

t.test('waits while no core node is alive', async (t) => {
  const h = harness({ cores: [] });
  h.pub.start();
  await h.sim.runFor(5_000);
  t.equal(h.calls.length, 0);
  h.state.cores = ['core-z'];
  await h.sim.runFor(300);
  t.equal(h.calls.length, 1);
  t.equal(h.calls[0]?.core, 'core-z');
  h.pub.stop();
});

t.test('an unchanged record is published again after the refresh interval', async (t) => {
  const h = harness({ refreshMs: 10_000 });
  h.pub.start();
  await h.sim.runFor(10);
  h.calls[0]!.settle(ok({ boot: 1000, seq: 0 }));
  await h.sim.runFor(9_000);
  t.equal(h.calls.length, 1);
  await h.sim.runFor(1_500);
  t.equal(h.calls.length, 2, 'refreshed');
  h.calls[1]!.settle(ok({ boot: 1000, seq: 0 }, false));
  await h.sim.runFor(100);
  t.equal(h.pub.stats.unchanged, 1, 'the store already held it');
  h.pub.stop();
});

t.test('a newer revision in the store is reported once and not hammered', async (t) => {
  const h = harness({ refreshMs: 10_000 });
  h.pub.start();
  await h.sim.runFor(10);
  h.calls[0]!.settle(ok({ boot: 2000, seq: 3 }, false));
  await h.sim.runFor(100);
  t.equal(h.warnings.filter((w) => /newer record/.test(w)).length, 1, 'warned');
  t.notOk(h.pub.current, 'the store does not hold our record');
  h.state.seq = 1;
  await h.sim.runFor(5_000);
  t.equal(h.calls.length, 1, 'no publish before the refresh interval');
  await h.sim.runFor(6_000);
  t.equal(h.calls.length, 2, 'tries again at the refresh interval');
  h.calls[1]!.settle(ok({ boot: 2000, seq: 3 }, false));
  await h.sim.runFor(100);
  t.equal(h.warnings.filter((w) => /newer record/.test(w)).length, 1, 'the same newer revision is not reported twice');
  h.pub.stop();
});

t.test('stop ends publishing and releases waiters', async (t) => {
  const h = harness();
  h.pub.start();
  await h.sim.runFor(10);
  const waiting = h.pub.settled();
  h.pub.stop();
  await waiting;
  h.calls[0]!.settle(ok({ boot: 1000, seq: 0 }));
  h.state.seq = 5;
  await h.sim.runFor(5_000);
  t.equal(h.calls.length, 1, 'nothing after stop');
});

t.test('compareRevision orders by boot, then seq', async (t) => {
  t.ok(compareRevision({ boot: 1, seq: 100 }, { boot: 2, seq: 0 }) < 0);
  t.ok(compareRevision({ boot: 2, seq: 1 }, { boot: 2, seq: 0 }) > 0);
  t.equal(compareRevision({ boot: 2, seq: 1 }, { boot: 2, seq: 1 }), 0);
});
