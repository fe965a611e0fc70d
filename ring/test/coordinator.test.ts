// The write coordinator's "asker's copy" (coordinator.ts): a write asked of a node that is a
// replica but not the coordinator names that node as its origin; the coordinator answers with
// the delta instead of sending the origin a merge, posts the delta (unanswered) to replicas
// beyond the quorum, and the origin merges it into its own vnode as the second acknowledgement —
// or, when its vnode refuses, gathers the missing acknowledgement from the other replicas.
// Driven through a scripted mux, so every message the coordinator sends is seen and answered here.
import t from 'tap';
import { nodeClock } from '@shoal/runtime';
import { hlc, record } from '@shoal/crdt';
import { BucketRegistry, Coordinator, coordinatorOf, jsonRecord, keyPartition, NoQuorumError, noTransfers, ringConfig, RingView, type HostMux, type VnodeCommand } from '@shoal/ring';
import type { ActorRef } from '@shoal/actors';
import { ringOf } from './helpers.js';

interface Sent {
  readonly node: string;
  readonly p: number;
  readonly cmd: VnodeCommand;
  readonly done: (err: Error | undefined, reply?: unknown) => void;
}

/** A mux that records what is sent and posted; the test answers the sends. */
class ScriptedMux {
  readonly sent: Sent[] = [];
  readonly posted: { node: string; p: number; cmd: VnodeCommand }[] = [];
  send(node: string, p: number, cmd: VnodeCommand, _timeoutMs: number, done: Sent['done']): void {
    this.sent.push({ node, p, cmd, done });
  }
  post(node: string, p: number, cmd: VnodeCommand): void {
    this.posted.push({ node, p, cmd });
  }
}

const ring = ringOf(['n1', 'n2', 'n3'].map((name) => ({ name, weight: 1, token: name })), 8, 3);

function coordinatorAt(self: string, local?: (cmd: VnodeCommand) => Promise<unknown> | undefined) {
  const view = new RingView(self, { isUp: () => true });
  view.publish(ring, noTransfers(ring));
  const mux = new ScriptedMux();
  const c = new Coordinator({ self, clock: nodeClock(), root: undefined as unknown as ActorRef<unknown>, view, buckets: new BucketRegistry({ generic: true }), config: ringConfig(), mux: mux as unknown as HostMux });
  const locals: VnodeCommand[] = [];
  c.attachLocal(() => undefined, (_p, cmd) => {
    locals.push(cmd);
    return local?.(cmd);
  });
  return { c, mux, view, locals };
}

/** A key of the scratch bucket whose coordinator (first counting entry) is `node`. */
function keyCoordinatedBy(node: string): { key: string; p: number } {
  const view = new RingView('n1', { isUp: () => true });
  view.publish(ring, noTransfers(ring));
  for (let i = 0; ; i++) {
    const key = `k${i}`;
    const p = keyPartition(ring, 'scratch', key);
    if (coordinatorOf(view.route(p)!)!.node === node) return { key, p };
  }
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));
const delta = new Uint8Array([1, 2, 3]);

t.test('the origin names itself; the coordinator answers with the delta; the origin keeps its own copy', async (t) => {
  const { key, p } = keyCoordinatedBy('n2');
  const { c, mux, locals } = coordinatorAt('n1', () => Promise.resolve({ ok: true }));
  const write = c.update('scratch', key, { value: { set: 1 } });
  t.equal(mux.sent.length, 1);
  const ask = mux.sent[0]!;
  t.match(ask, { node: 'n2', p, cmd: { c: 'write', bucket: 'scratch', key, w: 2, origin: 'n1' } });
  ask.done(undefined, { ok: true, acks: 1, delta });
  t.same(await write, { acks: 2 }, "the coordinator's copy and the origin's own");
  t.equal(locals.length, 1);
  t.match(locals[0], { c: 'merge', bucket: 'scratch', key, bytes: delta });
  t.equal(mux.sent.length, 1, 'nothing else asked');
});

t.test('an answer without a delta is taken as it is (a coordinator that sent the origin its merge)', async (t) => {
  const { key } = keyCoordinatedBy('n2');
  const { c, mux, locals } = coordinatorAt('n1', () => Promise.resolve({ ok: true }));
  const write = c.update('scratch', key, { value: { set: 1 } });
  mux.sent[0]!.done(undefined, { ok: true, acks: 2 });
  t.same(await write, { acks: 2 });
  t.equal(locals.length, 0);
});

t.test("the origin's vnode refuses: the missing acknowledgement comes from the other replica", async (t) => {
  const { key, p } = keyCoordinatedBy('n2');
  const { c, mux } = coordinatorAt('n1', () => Promise.resolve({ ok: false, code: 'refused', message: 'partition is being handed off' }));
  const write = c.update('scratch', key, { value: { set: 1 } });
  mux.sent[0]!.done(undefined, { ok: true, acks: 1, delta });
  await tick();
  t.equal(mux.sent.length, 2);
  t.match(mux.sent[1], { node: 'n3', p, cmd: { c: 'merge', key, bytes: delta } }, 'not the coordinator: it has the write');
  mux.sent[1]!.done(undefined, { ok: true });
  t.same(await write, { acks: 2 });
});

t.test("the origin's vnode is not ready and the other replica fails: no quorum, saying why", async (t) => {
  const { key } = keyCoordinatedBy('n2');
  const { c, mux } = coordinatorAt('n1', () => undefined);
  const write = c.update('scratch', key, { value: { set: 1 } });
  mux.sent[0]!.done(undefined, { ok: true, acks: 1, delta });
  await tick();
  mux.sent[1]!.done(undefined, { ok: false, code: 'refused', message: 'n3 says no' });
  const err = await write.then(() => undefined, (e: unknown) => e);
  t.type(err, NoQuorumError);
  t.match((err as Error).message, /^no quorum: write of scratch\/k\d+: 1 of the 2 replicas needed answered \(n1's vnode of partition \d+ is not ready; n3 says no\); the write may still be applied$/);
});

t.test('a replica answering bytes that are no record is a damaged replica: a failure that does not count, never "absent"', async (t) => {
  const { key } = keyCoordinatedBy('n2');
  const sound = record.encode(record.applyUpdate(record.empty(jsonRecord), { value: { set: 'v' } }, { stamp: hlc.tick(hlc.hlcZero('n2/1.1'), Date.now()) }).record);
  const junk = new Uint8Array([1, 2, 3]);
  {
    const { c, mux } = coordinatorAt('n1');
    t.teardown(() => c.stop());
    const read = c.get('scratch', key);
    t.equal(mux.sent.length, 2, 'R = 2 asked');
    mux.sent[0]!.done(undefined, { ok: true, bytes: sound });
    mux.sent[1]!.done(undefined, { ok: true, bytes: junk });
    t.equal(mux.sent.length, 3, 'the damaged answer does not count: the third replica is asked');
    mux.sent[2]!.done(undefined, { ok: true, bytes: sound });
    t.match(await read, { found: true, value: { value: 'v' }, answers: 2 });
    await tick();
    t.same(mux.posted, [], 'no repair is sent over the damaged copy (its vnode keeps it for inspection)');
  }
  {
    const { c, mux } = coordinatorAt('n1');
    t.teardown(() => c.stop());
    const read = c.get('scratch', key);
    for (let i = 0; i < 3; i++) mux.sent[i]!.done(undefined, { ok: true, bytes: junk });
    const err = await read.then(() => undefined, (e: unknown) => e);
    t.type(err, NoQuorumError, 'every replica damaged: an error, not "not found"');
    t.match((err as Error).message, /the record of scratch\/k\d+ on node n\d is damaged \(not a valid json record\)/);
  }
});

t.test('a malformed answer from the coordinator is an error, not a crash', async (t) => {
  const { key } = keyCoordinatedBy('n2');
  for (const bad of [{ ok: true, acks: 1, delta: 'not bytes' }, { ok: true, acks: 'one', delta }]) {
    const { c, mux, locals } = coordinatorAt('n1', () => Promise.resolve({ ok: true }));
    const write = c.update('scratch', key, { value: { set: 1 } });
    mux.sent[0]!.done(undefined, bad);
    const err = await write.then(() => undefined, (e: unknown) => e);
    t.type(err, NoQuorumError);
    t.match((err as Error).message, /n2 answered something that is not a reply/);
    t.equal(locals.length, 0, 'nothing merged');
  }
});

t.test('W = 1 asks no origin copy; a node without a vnode layer (no attachLocal) names no origin', async (t) => {
  const { key } = keyCoordinatedBy('n2');
  const { c, mux } = coordinatorAt('n1', () => Promise.resolve({ ok: true }));
  void c.update('scratch', key, { value: { set: 1 } }, { w: 1 });
  t.notOk('origin' in mux.sent[0]!.cmd);
  mux.sent[0]!.done(undefined, { ok: true, acks: 1 });
  const view = new RingView('n1', { isUp: () => true });
  view.publish(ring, noTransfers(ring));
  const bare = new ScriptedMux();
  const c2 = new Coordinator({ self: 'n1', clock: nodeClock(), root: undefined as unknown as ActorRef<unknown>, view, buckets: new BucketRegistry({ generic: true }), config: ringConfig(), mux: bare as unknown as HostMux });
  void c2.update('scratch', key, { value: { set: 1 } });
  t.notOk('origin' in bare.sent[0]!.cmd);
  bare.sent[0]!.done(undefined, { ok: true, acks: 2 });
});

t.test("the coordinator's side: the origin's copy is posted to it and counted by it, the rest posted or asked as W needs", async (t) => {
  const { key, p } = keyCoordinatedBy('n2');
  const { c, mux } = coordinatorAt('n2');
  const base = { partition: p, bucket: 'scratch', key, delta, n: 3, timeoutMs: 1_000, deadline: Date.now() + 1_000 };

  const carried = await c.replicate({ ...base, w: 2, origin: 'n1' });
  t.same(carried, { ok: true, acks: 1, delta }, 'W = 2: its own copy, and the delta for the origin');
  t.same(mux.posted.map((x) => [x.node, x.cmd.c]), [['n1', 'merge'], ['n3', 'merge']], 'the origin gets the delta posted at once (its copy starts beside this one), the third replica too, unanswered');
  t.equal(mux.sent.length, 0);

  mux.posted.length = 0;
  const w3 = c.replicate({ ...base, w: 3, origin: 'n1' });
  t.same(mux.posted.map((x) => x.node), ['n1'], 'W = 3: the origin still gets its copy posted at once');
  t.same(mux.sent.map((x) => [x.node, x.cmd.c]), [['n3', 'merge']], 'W = 3: the third replica is asked');
  mux.sent[0]!.done(undefined, { ok: true });
  t.same(await w3, { ok: true, acks: 2, delta });

  mux.sent.length = 0;
  const stranger = c.replicate({ ...base, w: 2, origin: 'n9' });
  t.same(mux.sent.map((x) => x.node).sort(), ['n1', 'n3'], 'an origin that is no entry of the route: both asked, as without one');
  mux.sent[1]!.done(undefined, { ok: true });
  t.same(await stranger, { ok: true, acks: 2 }, 'and no delta in the answer');

  mux.posted.length = 0;
  mux.sent.length = 0;
  t.same(await c.replicate({ ...base, w: 1 }), { ok: true, acks: 1 }, 'W = 1: nobody waited for');
  t.same(mux.posted.map((x) => x.node).sort(), ['n1', 'n3'], 'the others get the delta posted');
  t.equal(mux.sent.length, 0);
});
