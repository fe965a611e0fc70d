// The store through the service API, on a simulated cluster: the maintenance interface on a
// ring of one, typed errors (deleted, invalid, unknown bucket, no quorum, timeout), sloppy
// quorum with hinted handoff, coverage queries with filters and pages, anti-entropy repairing
// a replica nobody reads, tombstone reaping, and the guards of the ring manager.
import t from 'tap';
import { simTest, type Sim } from '@shoal/sim';
import { DeletedError, IncompleteCoverageError, InvalidKeyError, InvalidOperationError, NoQuorumError, QuorumTimeoutError, RingConfigError, StageError, UnknownBucketError, RingError, keyPartition, type RingService } from '@shoal/ring';
import { dispatch, refFromJSON, spawn, systemOf } from '@shoal/actors';
import { commitStaged, coordinatorOf, emptyClusterState, hostPath, managerPath, noTransfers, nothingStaged, ringToData, stage, transfersToData, type TransferState } from '@shoal/ring';
import { record } from '@shoal/crdt';
import { SimCluster } from './sim-harness.js';

async function cluster(sim: Sim, n: number, opts: ConstructorParameters<typeof SimCluster>[2] = {}): Promise<SimCluster> {
  const names = Array.from({ length: n }, (_, i) => `n${i + 1}`);
  const c = new SimCluster(sim, names, { partitionCount: 8, ...opts });
  const first = await sim.settle(c.startNode('n1', true));
  for (const name of names.slice(1)) await sim.settle(c.startNode(name));
  if (n > 1) {
    for (const name of names.slice(1)) await sim.settle(first.stage({ kind: 'join', node: name }));
    await sim.settle(first.commit());
    await sim.runUntil(() => names.every((x) => c.service(x).view.ring?.version === 2 && c.service(x).transfers()?.complete), { timeoutMs: 10_000 });
  }
  return c;
}

/** Settles a promise that must reject, and returns the error. */
async function failing(sim: Sim, p: Promise<unknown>): Promise<unknown> {
  try {
    await sim.settle(p);
  } catch (err) {
    return err;
  }
  throw new Error('expected a failure');
}

t.test('a ring of one: the maintenance interface and typed errors', async (t) => {
  await simTest(t, 'single node', { seeds: [1] }, async (sim, t) => {
    const c = await cluster(sim, 1);
    const s = c.service('n1');
    t.equal(s.status().ring?.members.length, 1);
    await sim.settle(s.putJson('scratch', 'a', { x: 1, tags: ['p'] }));
    t.same(await sim.settle(s.getJson('scratch', 'a')), { x: 1, tags: ['p'] }, 'R=2 is clipped to the single replica');
    await sim.settle(s.putJson('scratch', 'a', { x: 2 }));
    t.same(await sim.settle(s.getJson('scratch', 'a')), { x: 2 }, 'last writer wins');
    t.equal(await sim.settle(s.getJson('scratch', 'missing')), undefined);
    await sim.settle(s.delete('scratch', 'a'));
    t.equal(await sim.settle(s.getJson('scratch', 'a')), undefined);
    const g = await sim.settle(s.get('scratch', 'a'));
    t.match(g, { found: false, deleted: true });
    t.type(await failing(sim, s.putJson('scratch', 'a', 1)), DeletedError, 'a deleted key cannot be written until reaped');
    t.type(await failing(sim, s.update('sim', 'k', { reg: { set: 'not an integer' } } as never)), InvalidOperationError);
    t.type(await failing(sim, s.update('sim', 'k', { nope: { set: 1 } } as never)), InvalidOperationError);
    t.type(await failing(sim, s.putJson('sim', 'k', 1)), InvalidOperationError, 'typed buckets are not written as JSON');
    t.type(await failing(sim, s.get('No Such Bucket', 'k')), UnknownBucketError);
    t.type(await failing(sim, s.get('scratch', 'bad\u0001key')), InvalidKeyError);
    for (let i = 0; i < 7; i++) await sim.settle(s.putJson('scratch', `k${i}`, i));
    const page = await sim.settle(s.list('scratch', { limit: 5, values: true }));
    t.same(page.items.map((i) => i.key), ['k0', 'k1', 'k2', 'k3', 'k4']);
    t.same(page.items[0]!.value, { value: 0 });
    const rest = await sim.settle(s.list('scratch', { limit: 5, continuation: page.continuation! }));
    t.same(rest.items.map((i) => i.key), ['k5', 'k6'], 'the deleted key is not listed');
    t.equal(rest.continuation, undefined);
  });
});

t.test('no quorum and timeouts are clear', async (t) => {
  await simTest(t, 'three nodes', { seeds: [2] }, async (sim, t) => {
    const c = await cluster(sim, 4);
    const s1 = c.service('n1');
    const ring = s1.view.ring!;
    // A key n1 owns, so that it can still answer R=1 alone.
    const key = Array.from({ length: 50 }, (_, i) => `x${i}`).find((k) => ring.owners[keyPartition(ring, 'scratch', k)]!.includes('n1'))!;
    await sim.settle(s1.putJson('scratch', key, 'v'));
    c.crash('n2');
    c.crash('n3');
    c.crash('n4');
    await sim.runFor(c.detectMs + 10);
    const e = await failing(sim, s1.get('scratch', key));
    t.type(e, NoQuorumError);
    t.match((e as Error).message, /^no quorum: 1 of the 2 replicas a read of scratch\/x\d+ needs are up$/);
    t.type(await failing(sim, s1.putJson('scratch', key, 'w')), NoQuorumError);
    t.match(await sim.settle(s1.get('scratch', key, { r: 1 })), { found: true, value: { value: 'v' } }, 'R=1 still answers');
    const list = await failing(sim, s1.list('scratch'));
    t.type(list, IncompleteCoverageError, 'a list never answers from partial coverage');
    c.restart('n2');
    c.restart('n3');
    c.restart('n4');
    await sim.runFor(2_000);
    // A cut the liveness oracle has not noticed yet: the replicas are believed up, but silent.
    sim.partition(['n1']);
    const slow = await failing(sim, s1.get('scratch', key, { timeoutMs: 300 }));
    t.type(slow, QuorumTimeoutError);
    t.match((slow as Error).message, /^timeout: read of scratch\/x\d+/);
    const w = await failing(sim, s1.putJson('scratch', 'y', 1, { timeoutMs: 300 }));
    t.ok(w instanceof QuorumTimeoutError || w instanceof NoQuorumError, 'a write times out or finds no quorum');
    sim.heal();
  });
});

t.test('command batches from a peer: each item answered by id, malformed ones refused or dropped, never a crash', async (t) => {
  await simTest(t, 'cmds', { seeds: [3] }, async (sim, t) => {
    const c = await cluster(sim, 2);
    await sim.settle(c.service('n1').putJson('scratch', 'a', { x: 1 }));
    const p = keyPartition(c.service('n1').view.ring!, 'scratch', 'a');
    // A record for key b, made on n2 and posted to n1 below (request id 0: run, never answered).
    await sim.settle(c.service('n2').putJson('scratch', 'b-source', { y: 1 }));
    const pb = keyPartition(c.service('n1').view.ring!, 'scratch', 'b');
    const bBytes = record.encode((await sim.settle(c.service('n2').get('scratch', 'b-source'))).record!);
    const got: unknown[] = [];
    const collector = spawn(c.node('n2').root!, (s: undefined, msg: unknown) => {
      got.push(msg);
      return s;
    }, 'collector');
    const host = refFromJSON(c.node('n2').root!, { node: 'n1', path: [...hostPath] });
    dispatch(host, { t: 'cmds', items: 'not a list' }, collector);
    dispatch(host, { t: 'cmds', items: Array.from({ length: 300 }, (_, i) => [i, p, { c: 'get', bucket: 'scratch', key: 'a' }]) }, collector);
    dispatch(host, { t: 'cmds', items: [[1, p, { c: 'get', bucket: 'scratch', key: 'a' }]] });
    const deadline = systemOf(c.node('n1').root!).clock.wallMs() + 1_000;
    dispatch(host, {
      t: 'cmds',
      items: [
        [1, p, { c: 'get', bucket: 'scratch', key: 'a' }],
        [2, 9_999, { c: 'get', bucket: 'scratch', key: 'a' }],
        [3, p, { c: 'fold', bucket: 'scratch', after: null, limit: 10, filter: null, values: false }],
        [4, p, { c: 'merge', bucket: 'scratch' }],
        ['no id', p, { c: 'get', bucket: 'scratch', key: 'a' }],
        [5, p],
        [6, p, null],
        [7, p, { c: 'write', bucket: 'scratch', key: 'a', op: { kind: 'update', ops: { value: { set: 2 } } }, w: 2, n: 3, timeoutMs: 1_000, deadline }],
        [0, pb, { c: 'merge', bucket: 'scratch', key: 'b', bytes: bBytes, deadline }],
        [8, p, { c: 'write', bucket: 'scratch', key: 'a', op: { kind: 'update', ops: { value: { set: 3 } } }, w: 2, n: 3, timeoutMs: 1_000, deadline, origin: 9 }],
        [9, p, { c: 'write', bucket: 'scratch', key: 'c', op: { kind: 'update', ops: { value: { set: 4 } } }, w: 2, n: 3, timeoutMs: 1_000, deadline, origin: 'n9' }],
      ],
    }, collector);
    await sim.runFor(500);
    t.equal(got.length >= 1, true, 'answers came back');
    const answers = new Map<unknown, { ok: boolean; code?: string }>();
    for (const m of got as { t: string; items: [unknown, { ok: boolean; code?: string }][] }[]) {
      t.equal(m.t, 'replies');
      for (const [rid, r] of m.items) answers.set(rid, r);
    }
    t.same([...answers.keys()].sort(), [1, 2, 3, 4, 6, 7, 8, 9], 'an answer per item that has a non-zero id and a command; none for the rest');
    t.equal(answers.get(1)!.ok, true);
    t.match(answers.get(2), { ok: false, code: 'invalid-key' });
    t.match(answers.get(3), { ok: false, code: 'invalid-operation' }, 'folds are not batched');
    t.match(answers.get(4), { ok: false, code: 'invalid-operation' });
    t.match(answers.get(6), { ok: false, code: 'invalid-operation' });
    t.match(answers.get(7), { ok: true, acks: 2 }, 'a batched write is coordinated and acknowledged');
    t.match(answers.get(8), { ok: false, code: 'invalid-operation', message: /origin/ }, 'an origin that is not a node name is refused');
    t.match(answers.get(9), { ok: true, acks: 2 }, 'an origin that is no replica of the key changes nothing');
    t.notOk('delta' in answers.get(9)!, 'its answer carries no delta');
    t.match(await sim.settle(c.service('n1').get('scratch', 'b', { r: 1 })), { found: true, value: { value: { y: 1 } } }, 'the posted merge was applied');
    t.same(await sim.settle(c.service('n2').getJson('scratch', 'a')), 2, 'the write is readable, and the host still serves');
    t.ok(c.service('n1').status().requests.replyBatchesOut > 0, 'n1 counts the reply batches it sent');
    t.match(c.service('n2').status().requests, { outstanding: 0, timeouts: 0, down: 0 }, "n2's calls all ended by their replies");
    t.ok(c.service('n2').status().requests.calls > 0 && c.service('n2').status().requests.batchesOut > 0);
  });
});

t.test("a write through a replica that does not coordinate: the coordinator posts the delta to the asker at once and answers with it, the third replica gets it posted", async (t) => {
  await simTest(t, 'asker copy', { seeds: [4] }, async (sim, t) => {
    const c = await cluster(sim, 3);
    const s1 = c.service('n1');
    const ring = s1.view.ring!;
    const keys = Array.from({ length: 60 }, (_, i) => `w${i}`).filter((k) => coordinatorOf(s1.view.route(keyPartition(ring, 'scratch', k))!)!.node === 'n2').slice(0, 5);
    t.equal(keys.length, 5);
    await sim.runFor(1_000);
    const before = { n1: { ...s1.status().requests }, n2: { ...c.service('n2').status().requests }, n3: { ...c.service('n3').status().requests } };
    for (const k of keys) {
      const r = await sim.settle(s1.putJson('scratch', k, k));
      t.equal(r.acks, 2);
      const p = keyPartition(ring, 'scratch', k);
      t.ok(c.stored('n1', p, 'scratch', k), "n1 holds its own copy once the write is acknowledged");
      t.ok(c.stored('n2', p, 'scratch', k), 'so does the coordinator');
    }
    const after = { n1: s1.status().requests, n2: c.service('n2').status().requests, n3: c.service('n3').status().requests };
    t.equal(after.n1.calls - before.n1.calls, 5, 'n1: one call per write (the forward)');
    t.equal(after.n2.calls - before.n2.calls, 0, 'n2 asked nobody');
    t.equal(after.n2.posts - before.n2.posts, 10, 'n2 posted two merges per write: the delta to n1 at once (its copy starts beside the coordinator\'s), and to n3');
    await sim.runFor(200);
    for (const k of keys) t.ok(c.stored('n3', keyPartition(ring, 'scratch', k), 'scratch', k), `n3 has ${k}`);
    t.equal(after.n3.calls - before.n3.calls, 0);
    for (const k of keys) t.equal(await sim.settle(c.service('n3').getJson('scratch', k)), k);
  });
});

t.test('sloppy quorum and hinted handoff: a fallback stands in, then hands back and drops', async (t) => {
  await simTest(t, 'four nodes', { seeds: [3] }, async (sim, t) => {
    const c = await cluster(sim, 4);
    const ring = c.service('n1').view.ring!;
    const key = 'hinted';
    const p = keyPartition(ring, 'scratch', key);
    const [primary, ...rest] = ring.owners[p]!;
    const fallback = ring.members.map((m) => m.name).find((n) => !ring.owners[p]!.includes(n))!;
    c.crash(primary!);
    await sim.runFor(c.detectMs + 10);
    const via = c.service(rest[0]!);
    await sim.settle(via.putJson('scratch', key, 'while down'));
    const held = c.stored(fallback, p, 'scratch', key);
    t.ok(held, `the fallback ${fallback} holds the write`);
    t.same(c.service(fallback).host.vnode(p)!.hints(), [primary], 'with a hint naming the owner it stood in for');
    t.equal(c.stored(primary!, p, 'scratch', key), undefined);
    c.restart(primary!);
    await sim.runUntil(() => c.stored(primary!, p, 'scratch', key) !== undefined && c.stored(fallback, p, 'scratch', key) === undefined, { timeoutMs: 10_000, what: 'hinted handoff' });
    t.pass('handed back to the owner, dropped by the fallback');
    const sent = c.service(fallback).host.status().stats;
    t.equal(sent.handoffRecordsSent, 1, 'the handoff counts the one record it sent');
    t.equal(sent.handoffBytesSent, held!.byteLength + 'scratch'.length + key.length, 'and its bytes: the encoded record, bucket and key');
    t.same(await sim.settle(c.service(primary!).getJson('scratch', key)), 'while down');
    t.equal(c.service(fallback).host.vnode(p), undefined, 'the fallback vnode stopped');
  });
});

t.test('ownership handoff: a join moves data while it stays readable and writable; progress survives a crash', async (t) => {
  await simTest(t, 'join with data', { seeds: [4] }, async (sim, t) => {
    const c = await cluster(sim, 4, { config: { handoffConcurrency: 1, handoffBatchItems: 8 } });
    // n4 runs but only n1–n3 are members at first.
    const s1 = c.service('n1');
    await sim.settle(s1.stage({ kind: 'leave', node: 'n4' }));
    await sim.settle(s1.commit());
    await sim.runUntil(() => c.service('n1').transfers()!.complete && c.partitionsWithData('n4', 8).length === 0, { timeoutMs: 20_000 });
    const keys = Array.from({ length: 600 }, (_, i) => `key-${i}`);
    for (let i = 0; i < keys.length; i += 50) await sim.settle(Promise.all(keys.slice(i, i + 50).map((k) => s1.putJson('bulk', k, k))));
    await sim.settle(s1.stage({ kind: 'join', node: 'n4' }));
    const plan = await sim.settle(s1.commit());
    t.ok(plan.transfersCount > 0, `${plan.transfersCount} copies to make`);
    // Crash a sender in the middle of its first session, then restart it.
    const t0 = c.service('n1').transfers()!;
    const sender = t0.pendingList[0]!.from;
    await sim.runUntil(() => c.service(sender).host.status().stats.sessionsStarted > 0, { timeoutMs: 5_000 });
    await sim.runFor(12);
    t.ok(c.service(sender).host.status().sessions.length > 0, `${sender} is in the middle of a session`);
    c.crash(sender);
    let failures = 0;
    for (let i = 0; i < 40; i++) {
      await sim.runFor(50);
      const k = keys[(i * 37) % keys.length]!;
      const reader = c.service(['n1', 'n2', 'n3', 'n4'].filter((n) => n !== sender && c.isUpNow(n))[i % 3]!);
      const v = await sim.settle(reader.getJson('bulk', k).catch(() => 'failed'));
      if (v !== k) failures++;
      if (i === 20) c.restart(sender);
    }
    t.equal(failures, 0, 'every read during the transfer (and the crash) answered the written value');
    await sim.runUntil(() => ['n1', 'n2', 'n3', 'n4'].every((n) => c.isUpNow(n) && c.service(n).transfers()?.complete), { timeoutMs: 30_000, what: 'transfers done' });
    const ring = c.service('n1').view.ring!;
    for (const k of keys) {
      const p = keyPartition(ring, 'bulk', k);
      for (const o of ring.owners[p]!) if (!c.stored(o, p, 'bulk', k)) t.fail(`${o} lacks ${k}`);
      for (const n of ['n1', 'n2', 'n3', 'n4']) if (!ring.owners[p]!.includes(n) && c.stored(n, p, 'bulk', k)) t.fail(`${n} still holds ${k}`);
    }
    t.pass('every key on exactly its owners');
    t.ok(c.service(sender).host.status().stats.sessionsResumed > 0, `${sender} resumed its interrupted session from the persisted cursor`);
    const all: string[] = [];
    let token: string | undefined;
    do {
      const page = await sim.settle(c.service('n4').list('bulk', { limit: 200, ...(token ? { continuation: token } : {}) }));
      all.push(...page.items.map((i) => i.key));
      token = page.continuation;
    } while (token);
    t.equal(all.length, keys.length, 'a paged list returns every key once');
  });
});

t.test('handoff: a finished session starts the next at once, not at the next tick', async (t) => {
  await simTest(t, 'chained sessions', { seeds: [8] }, async (sim, t) => {
    const intervalMs = 3_000;
    const c = await cluster(sim, 4, { config: { handoffConcurrency: 1, handoffIntervalMs: intervalMs } });
    const s1 = c.service('n1');
    await sim.settle(s1.stage({ kind: 'leave', node: 'n4' }));
    await sim.settle(s1.commit());
    await sim.runUntil(() => s1.transfers()!.complete && c.partitionsWithData('n4', 8).length === 0, { timeoutMs: 20_000 });
    const keys = Array.from({ length: 200 }, (_, i) => `key-${i}`);
    await sim.settle(Promise.all(keys.map((k) => s1.putJson('bulk', k, k))));
    await sim.settle(s1.stage({ kind: 'join', node: 'n4' }));
    await sim.settle(s1.commit());
    const senders = ['n1', 'n2', 'n3'];
    const mine = (n: string): number => c.service(n).transfers()!.pendingList.filter((x) => x.from === n).length;
    const count = new Map(senders.map((n) => [n, mine(n)]));
    const base = new Map(senders.map((n) => [n, c.service(n).host.status().stats.sessionsStarted]));
    const firstStart = new Map<string, number>();
    const done = new Map<string, number>();
    const deadline = sim.nowMs + intervalMs * 10;
    while (done.size < senders.length && sim.nowMs < deadline) {
      await sim.runFor(20);
      for (const n of senders) {
        if (!firstStart.has(n) && c.service(n).host.status().stats.sessionsStarted > base.get(n)!) firstStart.set(n, sim.nowMs);
        if (!done.has(n) && mine(n) === 0) done.set(n, sim.nowMs);
      }
    }
    const busy = senders.filter((n) => count.get(n)! >= 2);
    t.ok(busy.length > 0, `a sender has several transfers to make, one session at a time (${senders.map((n) => `${n}: ${count.get(n)}`).join(', ')})`);
    for (const n of busy) t.ok(done.get(n)! - firstStart.get(n)! < intervalMs, `${n} made its ${count.get(n)} transfers within one handoff interval of its first session`);
  });
});

t.test('list pages with values are bounded in bytes per vnode, and still complete', async (t) => {
  await simTest(t, 'big values', { seeds: [3] }, async (sim, t) => {
    const c = await cluster(sim, 1);
    const s = c.service('n1');
    const partitionCount = s.ring()!.partitionCount;
    // Eight ~90 KB records in each of three partitions (one vnode's answer would be ~720 KB
    // unbounded), plus small ones elsewhere: vnodes answer partial pages of different lengths.
    const keys: string[] = [];
    const per = new Map<number, number>();
    for (let i = 0; keys.length < 24 && i < 100_000; i++) {
      const p = keyPartition({ partitionCount }, 'big', `k${i}`);
      if ([1, 3, 5].includes(p) && (per.get(p) ?? 0) < 8) {
        per.set(p, (per.get(p) ?? 0) + 1);
        keys.push(`k${i}`);
      }
    }
    const small = Array.from({ length: 20 }, (_, i) => `s${i}`);
    for (const k of small) await sim.settle(s.putJson('big', k, k));
    const value = (k: string) => Array.from({ length: 30 }, (_, j) => `${k}:${j}:`.padEnd(3000, 'x'));
    for (const k of keys) await sim.settle(s.putJson('big', k, value(k)));
    const seen: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const page = await sim.settle(s.list('big', { limit: 1000, values: true, ...(token ? { continuation: token } : {}) }));
      pages++;
      for (const item of page.items) {
        seen.push(item.key);
        t.same(item.value, { value: item.key.startsWith('s') ? item.key : value(item.key) }, `${item.key}: its whole value`);
      }
      token = page.continuation;
    } while (token !== undefined && pages < 20);
    t.same([...seen].sort(), [...keys, ...small].sort(), 'every key exactly once');
    t.ok(pages >= 3, `cut into ${pages} pages by the per-vnode byte bound (256 KiB)`);
  });
});

t.test('coverage filters run in the vnode', async (t) => {
  await simTest(t, 'filters', { seeds: [5] }, async (sim, t) => {
    const c = await cluster(sim, 3);
    const s = c.service('n2');
    for (let i = 0; i < 30; i++) await sim.settle(s.putJson('vms', `vm-${String(i).padStart(2, '0')}`, { state: i % 3 === 0 ? 'running' : 'stopped', owner: `u${i % 2}` }));
    const running = await sim.settle(s.list('vms', { filter: { op: 'eq', field: 'value.state', value: 'running' }, limit: 100 }));
    t.equal(running.items.length, 10);
    const both = await sim.settle(s.list('vms', { filter: { op: 'and', of: [{ op: 'eq', field: 'value.owner', value: 'u1' }, { op: 'prefix', field: '$key', value: 'vm-1' }] }, limit: 100 }));
    t.same(both.items.map((i) => i.key), ['vm-11', 'vm-13', 'vm-15', 'vm-17', 'vm-19']);
    t.type(await failing(sim, s.list('vms', { filter: { op: 'regex' } })), InvalidOperationError);
    t.type(await failing(sim, s.list('vms', { filter: { op: 'permit', hook: 'owner', arg: 'u1' } })), InvalidOperationError, 'unknown permit hooks are refused up front');
  });
});

t.test('anti-entropy repairs a replica that lost a record, without any read', async (t) => {
  await simTest(t, 'aae', { seeds: [6] }, async (sim, t) => {
    const c = await cluster(sim, 3);
    const s = c.service('n1');
    for (let i = 0; i < 20; i++) await sim.settle(s.putJson('scratch', `a${i}`, i));
    const ring = s.view.ring!;
    const p = keyPartition(ring, 'scratch', 'a7');
    const victim = ring.owners[p]![2]!;
    // Lose the record behind the node's back (a disk restored from an old backup), then restart.
    await sim.settle(c.node(victim).storage!.store('ring.data').delete([p, 'scratch', 'a7']));
    c.crash(victim);
    c.restart(victim);
    await sim.runUntil(() => c.stored(victim, p, 'scratch', 'a7') !== undefined, { timeoutMs: 20_000, what: 'anti-entropy repair' });
    t.ok(c.service(victim).host.status().stats.exchanges + c.service(ring.owners[p]![0]!).host.status().stats.exchanges > 0);
    t.pass('repaired');
  });
});

t.test('tombstones are reaped once every replica has them and the grace period passed', async (t) => {
  await simTest(t, 'reaper', { seeds: [7] }, async (sim, t) => {
    const c = await cluster(sim, 4, { config: { tombstoneGraceMs: 2_000, reapIntervalMs: 500 } });
    const s = c.service('n1');
    await sim.settle(s.putJson('scratch', 'gone', 1));
    await sim.settle(s.delete('scratch', 'gone'));
    const ring = s.view.ring!;
    const p = keyPartition(ring, 'scratch', 'gone');
    await sim.runFor(1_000);
    t.ok(ring.owners[p]!.every((o) => c.stored(o, p, 'scratch', 'gone') !== undefined), 'every owner holds the tombstone');
    const outsider = ring.members.map((m) => m.name).find((n) => !ring.owners[p]!.includes(n))!;
    c.crash(outsider);
    await sim.runFor(4_000);
    t.ok(ring.owners[p]!.every((o) => c.stored(o, p, 'scratch', 'gone') !== undefined), 'not reaped while a member is down (it may hold fallback data)');
    c.restart(outsider);
    await sim.runUntil(() => ring.owners[p]!.every((o) => c.stored(o, p, 'scratch', 'gone') === undefined), { timeoutMs: 10_000, what: 'reaping' });
    t.pass('reaped everywhere');
    await sim.settle(s.putJson('scratch', 'gone', 2));
    t.same(await sim.settle(s.getJson('scratch', 'gone')), 2, 'after the reap the key can be written afresh');
  });
});

t.test('the ring manager: joins need an up node, other clusters are refused, state survives restarts', async (t) => {
  await simTest(t, 'manager', { seeds: [8] }, async (sim, t) => {
    const c = await cluster(sim, 3);
    const s1 = c.service('n1');
    const down = await failing(sim, s1.stage({ kind: 'join', node: 'ghost' }));
    t.ok(down instanceof RingError && down.code === 'not-up', 'a node that is not up cannot join');
    const dup = await failing(sim, s1.stage({ kind: 'join', node: 'n2' }));
    t.ok(dup instanceof StageError && dup.code === 'already-member');
    t.match(await failing(sim, s1.commit()), { code: 'nothing-staged' });
    await sim.settle(s1.stage({ kind: 'leave', node: 'n3' }));
    t.same(c.service('n1').status().staged, [{ kind: 'leave', node: 'n3' }]);
    c.crash('n1');
    c.restart('n1');
    await sim.runUntil(() => c.isUpNow('n1'), { timeoutMs: 5_000 });
    const again: RingService = c.service('n1');
    t.same(again.status().staged, [{ kind: 'leave', node: 'n3' }], 'staged changes survive a restart');
    t.equal(again.view.ring?.version, 2, 'so does the ring');
    await sim.settle(again.clear());
    t.same(again.status().staged, []);
    t.ok((await failing(sim, again.stage({ kind: 'replace', node: 'n1', replacement: 'n1' }))) instanceof StageError, 'a node cannot replace itself');
  });
});

t.test('rings of another cluster are refused, both ways', async (t) => {
  await simTest(t, 'strangers', { seeds: [10] }, async (sim, t) => {
    const c = new SimCluster(sim, ['n1', 'n2', 'x1'], { partitionCount: 8 });
    const s1 = await sim.settle(c.startNode('n1', true));
    await sim.settle(c.startNode('n2'));
    await sim.settle(s1.stage({ kind: 'join', node: 'n2' }));
    await sim.settle(s1.commit());
    // x1 was started as the first node of a cluster of its own (same name, another origin).
    const x1 = await sim.settle(c.startNode('x1', true));
    await sim.runFor(500);
    const before = c.service('n2').view.ring!.hash;
    const ring = x1.view.ring!;
    dispatch(refFromJSON(c.node('x1').root!, { node: 'n2', path: [...managerPath] }), { t: 'gossip', from: 'x1', ring: ringToData(ring), transfers: noTransfers(ring) });
    dispatch(refFromJSON(c.node('x1').root!, { node: 'x1', path: [...managerPath] }), { t: 'hello', node: 'n2' });
    await sim.runFor(500);
    t.equal(c.service('n2').view.ring!.hash, before, 'n2 keeps its ring');
    t.equal(x1.view.ring!.hash, ring.hash, 'x1 keeps its own');
    t.ok(c.service('n2').status().gossip.refused > 0 && x1.status().gossip.refused > 0, 'both counted a refusal');
    t.match(c.service('n2').status().gossip.lastRefusal, /different clusters/);
  });
});

t.test('a malformed transfer state: from a peer the ring is dropped and counted, stored it stops the start', async (t) => {
  await simTest(t, 'bad-transfers', { seeds: [11] }, async (sim, t) => {
    const c = await cluster(sim, 3);
    const n2 = c.service('n2');
    const [ring, transfers] = [n2.view.ring!, n2.view.transfers!];
    const staged = stage(ring, nothingStaged, { kind: 'join', node: 'n9' });
    if (!staged.ok) throw staged.error;
    const next = commitStaged({ ...emptyClusterState, ring, transfers, staged: staged.value }, 'n1');
    if (!next.ok) throw next.error;
    const newer = next.state.ring!;
    const bad: [string, unknown][] = [
      ['not an object', 'junk'],
      ['done marks out of range', { ...transfersToData(next.state.transfers!), done: [1_000_000] }],
      ["another ring's state", noTransfers(ring)],
    ];
    const to = refFromJSON(c.node('n1').root!, { node: 'n2', path: [...managerPath] });
    for (const [, x] of bad) dispatch(to, { t: 'gossip', from: 'n1', ring: ringToData(newer), transfers: x as TransferState });
    await sim.runFor(500);
    t.equal(n2.view.ring!.hash, ring.hash, 'n2 did not adopt the newer ring without its transfer state');
    t.same(n2.view.transfers, transfers, 'and its own transfer state is unchanged');
    t.equal(n2.status().gossip.refused, bad.length, 'each malformed gossip is counted');
    t.match(n2.status().gossip.lastRefusal, /^n1: malformed transfer state: the transfer state is of another ring \(version 2, hash "\w+"\) than the one it came with \(version 3/);

    // The same state stored on n1: the start refuses with one sentence naming the record, twice
    // (the record is left as it was).
    const store = c.node('n1').storage!.store<unknown>('ring.cluster');
    const saved = store.get(['ring']) as { ring: unknown; transfers: unknown };
    await sim.settle(store.put(['ring'], { ...saved, transfers: { ...(saved.transfers as object), done: [1_000_000] } }));
    for (let i = 0; i < 2; i++) {
      c.crash('n1');
      c.node('n1').sim.restart();
      const err = await failing(sim, c.startNode('n1'));
      t.ok(err instanceof RingConfigError, `start ${i + 1} refused with RingConfigError`);
      t.match((err as Error).message, /^the stored transfer state \(store ring\.cluster, key \["ring"\]\) is not valid: done marks are not ascending indexes of transfers$/);
    }
  });
});

t.test('concurrent commits: one ring wins everywhere and the loser says so', async (t) => {
  await simTest(t, 'conflict', { seeds: [9] }, async (sim, t) => {
    const c = await cluster(sim, 4);
    sim.partition(['n1', 'n2'], ['n3', 'n4']);
    await sim.settle(c.service('n1').stage({ kind: 'leave', node: 'n2' }));
    await sim.settle(c.service('n3').stage({ kind: 'leave', node: 'n4' }));
    await sim.settle(c.service('n1').commit());
    await sim.settle(c.service('n3').commit());
    sim.heal();
    await sim.runUntil(() => ['n1', 'n2', 'n3', 'n4'].every((n) => c.service(n).view.ring?.hash === c.service('n1').view.ring?.hash), { timeoutMs: 20_000, what: 'one ring' });
    const winner = c.service('n1').view.ring!;
    t.equal(winner.version, 3);
    const loser = winner.committedBy === 'n1' ? 'n3' : 'n1';
    t.match(c.service(loser).status().lostCommit, { version: 3, winner: winner.committedBy }, `${loser} reports its commit lost`);
  });
});
