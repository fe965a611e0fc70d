// The request multiplexer (mux.ts) against a scripted host on one real actor system: commands of
// one turn leave in one batch per node (cut by count and bytes), each call gets its own reply
// whatever the order, stale ids are dropped, and every other ending — timeout, host absent or
// stopping, transport refusal, the pending bound, service stop — ends each call exactly once.
import t from 'tap';
import { dispatch, NodeDownError, QueryTimeoutError, spawn, start, stop, systemOf, type ActorContext, type ActorRef } from '@shoal/actors';
import { silentLogger } from '@shoal/runtime';
import { estimateBytes, HostMux, hostPath, muxActor, muxBatchBytesMax, muxBatchItemsMax, MuxRefusedError, type MuxItem, type MuxMessage, type VnodeCommand } from '@shoal/ring';

type Batch = { t: 'cmds'; items: MuxItem[] };

/** A system with a mux bound to its reply actor, and a host that records batches and answers as `answer` says. */
function setup(answer: (batch: Batch, reply: ActorRef<MuxMessage>) => void, withHost = true) {
  const root = start({ name: 'n1', logger: silentLogger });
  const sys = systemOf(root);
  const mux = new HostMux({ self: 'n1', clock: sys.clock, random: sys.random, root });
  mux.bind(spawn(root, muxActor(mux), 'ring-replies') as ActorRef<MuxMessage>);
  const batches: Batch[] = [];
  let host: ActorRef<unknown> | undefined;
  if (withHost) {
    host = spawn(root, (s: undefined, msg: Batch, ctx: ActorContext<Batch>) => {
      batches.push(msg);
      answer(msg, ctx.sender as ActorRef<MuxMessage>);
      return s;
    }, hostPath[0]);
  }
  return { root, mux, batches, host, stop: () => stop(root) };
}

const get = (key: string): VnodeCommand => ({ c: 'get', bucket: 'b', key });
/** `mux.send` as a promise. */
const call = (mux: HostMux, cmd: VnodeCommand, timeoutMs = 5_000): Promise<unknown> =>
  new Promise((resolve, reject) => mux.send('n1', 0, cmd, timeoutMs, (err, reply) => (err ? reject(err) : resolve(reply))));
const echo = (batch: Batch, reply: ActorRef<MuxMessage>): void => {
  // Answers in reverse order, each with the key it was asked for.
  const items = batch.items.map(([rid, , cmd]) => [rid, { ok: true, key: (cmd as { key: string }).key }] as const).reverse();
  replyTo(reply, items);
};
function replyTo(reply: ActorRef<MuxMessage>, items: readonly (readonly [number, unknown])[]): void {
  dispatch(reply, { t: 'replies', items });
}

t.test('one batch per node and turn, cut at the item bound; every call gets its own reply', async (t) => {
  const s = setup(echo);
  const n = muxBatchItemsMax + 44;
  const replies = await Promise.all(Array.from({ length: n }, (_, i) => call(s.mux, get(`k${i}`))));
  t.same(replies.map((r) => (r as { key: string }).key), Array.from({ length: n }, (_, i) => `k${i}`));
  t.same(s.batches.map((b) => b.items.length), [muxBatchItemsMax, 44], 'two batches');
  t.equal(s.mux.outstanding, 0);
  s.stop();
});

t.test('a batch is cut at the byte bound; an item over it goes alone', async (t) => {
  const s = setup(echo);
  const big = (key: string, size: number): VnodeCommand => ({ c: 'merge', bucket: 'b', key, bytes: new Uint8Array(size), deadline: 0 });
  await Promise.all([call(s.mux, big('a', 100_000)), call(s.mux, big('b', 100_000)), call(s.mux, big('c', 100_000)), call(s.mux, big('d', muxBatchBytesMax * 2)), call(s.mux, get('e'))]);
  t.same(s.batches.map((b) => b.items.map(([, , c]) => (c as { key: string }).key)), [['a', 'b'], ['c'], ['d'], ['e']]);
  // The walk stops once past the budget: a huge command costs about the budget's work, not its
  // size (elements read are counted through a proxy).
  let reads = 0;
  const wide = new Proxy(Array.from({ length: 1_000_000 }, () => 'x'.repeat(10)), {
    get(target, prop, receiver) {
      if (typeof prop === 'string' && /^\d+$/.test(prop)) reads++;
      return Reflect.get(target, prop, receiver) as unknown;
    },
  });
  const estimate = estimateBytes(wide);
  t.ok(estimate > muxBatchBytesMax && estimate < muxBatchBytesMax + 64, `stopped just past the budget (${estimate})`);
  t.ok(reads <= muxBatchBytesMax, `read ${reads} of 1,000,000 elements`);
  s.stop();
});

t.test('replies with unknown ids and malformed items are dropped; the right ones still settle', async (t) => {
  const s = setup((batch, reply) => {
    const [rid] = batch.items[0]!;
    replyTo(reply, [[12345, { ok: true }], ['x', 1] as never, [rid, { ok: true, mine: 1 }]]);
  });
  t.same(await call(s.mux, get('a')), { ok: true, mine: 1 });
  t.equal(s.mux.stats.stale, 1);
  s.stop();
});

t.test('a call nobody answers times out; one whose host is absent or stops fails as node down', async (t) => {
  const silent = setup(() => undefined);
  await t.rejects(call(silent.mux, get('a'), 25), QueryTimeoutError);
  t.equal(silent.mux.outstanding, 0);
  stop(silent.host!);
  await t.rejects(call(silent.mux, get('b')), NodeDownError, 'the host stopped while watched, or is absent now');
  silent.stop();

  const absent = setup(() => undefined, false);
  await t.rejects(call(absent.mux, get('a')), NodeDownError);
  await t.rejects(call(absent.mux, get('b')), NodeDownError, 'watched again on the next call');
  absent.stop();
});

t.test('stopping the mux ends outstanding calls and refuses new ones', async (t) => {
  const s = setup(() => undefined);
  const pending = call(s.mux, get('a'));
  s.mux.stop();
  await t.rejects(pending, MuxRefusedError);
  await t.rejects(call(s.mux, get('b')), MuxRefusedError);
  s.stop();
});

t.test('a post travels in the batch with id 0 and nothing waits for it; a stray answer to it is dropped', async (t) => {
  const s = setup(echo);
  s.mux.post('n1', 0, get('posted'));
  const r = await call(s.mux, get('asked'));
  t.match(r, { ok: true, key: 'asked' });
  t.equal(s.batches.length, 1, 'the post and the call share the batch');
  t.same(s.batches[0]!.items.map(([rid, , cmd]) => [rid, (cmd as { key: string }).key]), [[0, 'posted'], [s.batches[0]!.items[1]![0], 'asked']]);
  t.not(s.batches[0]!.items[1]![0], 0, "a call's id is never 0");
  t.equal(s.mux.outstanding, 0);
  t.match(s.mux.stats, { posts: 1, calls: 1, stale: 1 }, "the scripted host's answer to id 0 counts as stale");
  s.stop();
  const unbound = new HostMux({ self: 'n1', clock: systemOf(s.root).clock, random: systemOf(s.root).random, root: s.root });
  unbound.post('n1', 0, get('x'));
  t.equal(unbound.stats.posts, 0, 'a post before the reply actor is bound is dropped');
});
