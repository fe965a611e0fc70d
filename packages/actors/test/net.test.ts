/**
 * The WebSocket actor transport between two systems in one process, over real sockets:
 * send, query and monitor through the same calls as local actors; one link per node pair;
 * authentication; bounded queues; failures become dead letters or node-down, never silence.
 */
import t from 'tap';
import { WebSocket } from 'ws';
import {
  dispatch,
  monitor,
  NodeDownError,
  OutboundQueueFullError,
  query,
  refFromJSON,
  spawn,
  stop,
  systemOf,
  UndeliverableError,
  UnserializableMessageError,
  type ActorRef,
  type MembershipEvent,
} from '@shoal/actors';
import { collector, keyringOf, startNode, waitFor, type TestNode } from './net-helpers.js';

const key = keyringOf(1);

t.test('send and query across nodes, replies to ctx.sender, refs in messages', async (t) => {
  const a = await startNode('a', key);
  const b = await startNode('b', key);
  t.teardown(async () => {
    await a.stop();
    await b.stop();
  });
  a.net.setPeerAddress('b', b.address);
  b.net.setPeerAddress('a', a.address);
  const echoOnB = refFromJSON<unknown>(systemOf(a.root), { node: 'b', path: ['echo'] });

  const answer = (await query(echoOnB, (tmp: ActorRef<unknown>) => ({ hello: 'world', n: 1, bytes: new Uint8Array([1, 2]), replyTo: tmp }), 2000)) as {
    reply: { hello: string; bytes: Uint8Array };
    from: ActorRef<unknown>;
  };
  t.equal(answer.reply.hello, 'world');
  t.same([...answer.reply.bytes], [1, 2]);
  t.equal(answer.from.node, 'b', 'a ref in the reply comes back as a ref');
  t.equal(answer.from.toString(), 'b/echo');

  const box = collector(a.root, 'box');
  for (let i = 0; i < 1000; i++) dispatch(echoOnB, { i }, box.ref);
  await waitFor('1000 replies', () => box.got.length === 1000);
  t.same(box.got.map((m) => (m as { reply: { i: number } }).reply.i), Array.from({ length: 1000 }, (_, i) => i), 'in order');
  t.equal(a.net.stats.linksOpened + b.net.stats.linksOpened, 2, 'one link, seen from both sides');
  t.ok(a.net.stats.framesOut < 1000, `batched: ${a.net.stats.framesOut} frames for 1001 messages`);
});

t.test('simultaneous first sends from both sides make exactly one link', async (t) => {
  for (let round = 0; round < 5; round++) {
    const a = await startNode('a', key);
    const b = await startNode('b', key);
    a.net.setPeerAddress('b', b.address);
    b.net.setPeerAddress('a', a.address);
    const boxA = collector(a.root, 'box');
    const boxB = collector(b.root, 'box');
    const toB = refFromJSON<unknown>(systemOf(a.root), { node: 'b', path: ['box'] });
    const toA = refFromJSON<unknown>(systemOf(b.root), { node: 'a', path: ['box'] });
    for (let i = 0; i < 100; i++) {
      dispatch(toB, i);
      dispatch(toA, i);
    }
    await waitFor('both boxes full', () => boxA.got.length === 100 && boxB.got.length === 100);
    t.same(boxA.got, boxB.got, `round ${round}: all delivered in order both ways`);
    t.equal(a.net.peersInfo().filter((p) => p.state === 'connected').length, 1);
    t.equal(a.net.stats.linksOpened, 1, `round ${round}: a adopted one link`);
    t.equal(b.net.stats.linksOpened, 1, `round ${round}: b adopted one link`);
    t.equal(a.net.stats.linksClosed + b.net.stats.linksClosed, 0, 'no adopted link was closed');
    await a.stop();
    await b.stop();
  }
});

t.test('monitors: stop, noproc, and node-down when the link breaks', async (t) => {
  const a = await startNode('a', key);
  const b = await startNode('b', key);
  t.teardown(async () => {
    await a.stop();
  });
  a.net.setPeerAddress('b', b.address);
  const sysA = systemOf(a.root);
  const watcher = collector(a.root, 'watcher');
  const victim = spawn(b.root, (s: undefined) => s, 'victim');
  monitor(watcher.ref, refFromJSON(sysA, { node: 'b', path: ['victim'] }));
  monitor(watcher.ref, refFromJSON(sysA, { node: 'b', path: ['nobody'] }));
  await waitFor('noproc', () => watcher.downs.length === 1);
  t.equal(watcher.downs[0]?.reason, 'noproc');
  stop(victim);
  await waitFor('stopped', () => watcher.downs.length === 2);
  t.equal(watcher.downs[1]?.reason, 'stopped');
  t.equal(watcher.downs[1]?.ref.toString(), 'b/victim');

  monitor(watcher.ref, refFromJSON(sysA, { node: 'b', path: ['echo'] }));
  const pending = query(refFromJSON(sysA, { node: 'b', path: ['nobody-answers'] }), { x: 1 }, 10_000).catch((err: unknown) => err);
  const stuck = spawn(b.root, () => new Promise<undefined>(() => undefined), 'stuck');
  const slow = query(refFromJSON(sysA, { node: 'b', path: ['stuck'] }), 'hang', 10_000).catch((err: unknown) => err);
  t.type(await pending, UndeliverableError, 'a query to an unknown remote actor fails at once');
  await new Promise((r) => setTimeout(r, 50));
  void stuck;
  await b.stop();
  await waitFor('node-down', () => watcher.downs.length === 3);
  t.equal(watcher.downs[2]?.reason, 'node-down');
  t.type(await slow, NodeDownError, 'a query in flight fails when the link goes down');
});

t.test('a node with another key never links; its messages become dead letters', async (t) => {
  const a = await startNode('a', key, { unreachableAfterFailures: 2, reconnectMinMs: 10 });
  const intruder = await startNode('intruder', keyringOf(2), { unreachableAfterFailures: 2, reconnectMinMs: 10 });
  t.teardown(async () => {
    await a.stop();
    await intruder.stop();
  });
  intruder.net.setPeerAddress('a', a.address);
  const box = collector(a.root, 'box');
  const sysI = systemOf(intruder.root);
  const dead: string[] = [];
  sysI.deadLetters.subscribe((d) => dead.push(d.reason));
  dispatch(refFromJSON(sysI, { node: 'a', path: ['box'] }), 'let me in');
  const q = query(refFromJSON(sysI, { node: 'a', path: ['echo'] }), 'hi', 10_000).catch((err: unknown) => err);
  t.type(await q, UndeliverableError, 'the query fails once the peer is deemed unreachable');
  await waitFor('dead letters', () => dead.length >= 2);
  t.same(box.got, [], 'nothing delivered');
  t.ok(a.net.stats.acceptFailures.handshake >= 2, 'the listener counted the failed handshakes');
  t.equal(intruder.net.stats.linksOpened, 0);
});

t.test('garbage on the listener is closed and counted', async (t) => {
  const a = await startNode('a', key);
  t.teardown(() => a.stop());
  for (const junk of [Buffer.from('hello'), Buffer.alloc(2000, 0xff), Buffer.from([0x92, 0x01, 0xc1])]) {
    const ws = new WebSocket(`ws://${a.address}/`);
    await new Promise<void>((resolve) => ws.once('open', () => resolve()));
    ws.send(junk);
    await new Promise<void>((resolve) => ws.once('close', () => resolve()));
  }
  t.equal(a.net.stats.acceptFailures.handshake, 3);
  t.equal(a.net.stats.linksOpened, 0);
});

t.test('bounded outbound queue; unserializable messages fail at dispatch; unknown nodes are dead letters', async (t) => {
  const a = await startNode('a', key, { outboundQueueMax: 10 });
  t.teardown(() => a.stop());
  const sysA = systemOf(a.root);
  const far = refFromJSON<unknown>(sysA, { node: 'far', path: ['x'] });
  for (let i = 0; i < 10; i++) dispatch(far, i);
  t.throws(() => dispatch(far, 10), OutboundQueueFullError, 'the 11th message is refused');
  t.equal(a.net.stats.queueFull, 1);
  t.throws(() => dispatch(far, { f: () => 1 }), UnserializableMessageError);
  t.throws(() => dispatch(far, new Map()), UnserializableMessageError);
  t.throws(() => dispatch(far, { when: new Date() }), UnserializableMessageError);
  const far2 = refFromJSON<unknown>(sysA, { node: 'far2', path: ['x'] });
  t.doesNotThrow(() => dispatch(far2, Object.freeze({ frozen: Object.freeze([1, 2]) })), 'a frozen message can be queued and bounced');
  const dead: string[] = [];
  sysA.deadLetters.subscribe((d) => dead.push(d.reason));
  await waitFor('eleven dead letters', () => dead.length === 11);
  t.same(new Set(dead), new Set(['no-route']));
  const q = await query(far, 'q', 5000).catch((err: unknown) => err);
  t.type(q, UndeliverableError, 'a query to a node with no address fails at once');
});

t.test('a restarted peer (new incarnation) replaces the old link', async (t) => {
  const a = await startNode('a', key);
  let b = await startNode('b', key);
  const port = b.address.split(':')[1];
  t.teardown(async () => {
    await a.stop();
    await b.stop();
  });
  b.net.setPeerAddress('a', a.address);
  const box = collector(a.root, 'box');
  const toA = () => refFromJSON<unknown>(systemOf(b.root), { node: 'a', path: ['box'] });
  dispatch(toA(), 'first');
  await waitFor('first', () => box.got.length === 1);
  const firstIncarnation = a.net.peersInfo()[0]?.incarnation;
  await b.stop();
  b = await startNode('b', key, { listen: `127.0.0.1:${port}` });
  b.net.setPeerAddress('a', a.address);
  dispatch(toA(), 'second');
  await waitFor('second', () => box.got.length === 2);
  const info = a.net.peersInfo().find((p) => p.node === 'b');
  t.not(info?.incarnation, firstIncarnation, 'the new incarnation is linked');
  t.equal(info?.state, 'connected');
});

/**
 * An actor `slow` on `on` that busy-works `workMs` per message, and a sender on `from` that
 * dispatches `total` numbers to it, waiting for room (`whenRoom`) each time the outbound queue
 * refuses one. Resolves when all were dispatched, with the number of waits.
 */
function slowSink(on: TestNode, from: TestNode, workMs: number, mailboxMax: number) {
  let seen = 0;
  spawn(
    on.root,
    (s: undefined) => {
      const until = performance.now() + workMs;
      while (performance.now() < until);
      seen++;
      return s;
    },
    'slow',
    { mailboxMax },
  );
  const node = systemOf(on.root).name;
  const ref = refFromJSON<unknown>(systemOf(from.root), { node, path: ['slow'] });
  return {
    seen: () => seen,
    async sendAll(total: number, onWait: () => void = () => undefined): Promise<number> {
      let waits = 0;
      for (let i = 0; i < total; i++) {
        try {
          dispatch(ref, i);
        } catch (err) {
          if (!(err instanceof OutboundQueueFullError)) throw err;
          i--;
          waits++;
          await from.net.whenRoom(node);
          onWait();
        }
      }
      return waits;
    },
  };
}

t.test('inbound flow control: a slow actor is not flooded into dead letters', async (t) => {
  const a = await startNode('a', key, { batchItemsMax: 100 });
  const b = await startNode('b', key, { inboundBacklogMax: 500 });
  t.teardown(async () => {
    await a.stop();
    await b.stop();
  });
  a.net.setPeerAddress('b', b.address);
  const slow = slowSink(b, a, 0.02, 2000); // 20 µs of work per message
  const total = 20_000;
  await slow.sendAll(total);
  await waitFor('all delivered', () => slow.seen() === total, 20_000);
  t.equal(systemOf(b.root).deadLetters.total, 0, 'no message became a dead letter');
  t.ok(b.net.stats.throttled > 0, `the receiver paused its link ${b.net.stats.throttled} times`);
});

t.test('whenRoom: a bulk sender waits for room instead of retrying', async (t) => {
  const a = await startNode('a', key, { outboundQueueMax: 200, batchItemsMax: 50 });
  const b = await startNode('b', key, { inboundBacklogMax: 300 });
  t.teardown(async () => {
    await a.stop();
    await b.stop();
  });
  await a.net.whenRoom('nobody');
  t.pass('a node with no queue has room at once');
  a.net.setPeerAddress('b', b.address);
  const slow = slowSink(b, a, 0.01, 1000);
  const total = 5_000;
  let queuedAtWake = 0;
  const waits = await slow.sendAll(total, () => (queuedAtWake = Math.max(queuedAtWake, a.net.peersInfo().find((p) => p.node === 'b')?.queued ?? 0)));
  t.ok(queuedAtWake <= 100, `woken with the queue at most half full (at most ${queuedAtWake})`);
  await waitFor('all delivered', () => slow.seen() === total, 20_000);
  t.equal(systemOf(b.root).deadLetters.total, 0, 'nothing lost');
  t.ok(waits > 0 && waits === a.net.stats.queueFull, `the sender waited ${waits} times, once per refusal (no spinning)`);

  // A peer that cannot be reached: the waiters wake when its queue is emptied (dead letters).
  const far = refFromJSON<unknown>(systemOf(a.root), { node: 'far', path: ['x'] });
  for (let i = 0; i < 200; i++) dispatch(far, i);
  t.throws(() => dispatch(far, 200), OutboundQueueFullError);
  await a.net.whenRoom('far');
  t.ok((a.net.peersInfo().find((p) => p.node === 'far')?.queued ?? 0) <= 100, 'a peer with no address: its queue is bounced, and the waiter wakes with room in it');
});

t.test('followMember: membership events give peers their address, and take it away with node-down', async (t) => {
  const a = await startNode('a', key);
  const b = await startNode('b', key);
  t.teardown(async () => {
    await a.stop();
    await b.stop();
  });
  const ev = (kind: MembershipEvent['kind'], name: string, cluster: string): MembershipEvent => ({ kind, member: { name, meta: { addresses: { cluster } } } });
  const sysA = systemOf(a.root);
  a.net.followMember(ev('joined', 'a', '127.0.0.1:1'));
  t.same(a.net.peersInfo(), [], 'an event about this node changes nothing');
  a.net.followMember(ev('joined', 'b', b.address));
  t.match(await query(refFromJSON(sysA, { node: 'b', path: ['echo'] }), 'hi', 5_000), { reply: 'hi' }, 'a joined member is reachable');
  a.net.followMember(ev('suspected', 'b', b.address));
  t.equal(a.net.peersInfo().find((p) => p.node === 'b')?.state, 'connected', 'a suspected member keeps its link');
  const watcher = collector(a.root, 'watcher');
  monitor(watcher.ref, refFromJSON(sysA, { node: 'b', path: ['echo'] }));
  a.net.followMember(ev('failed', 'b', b.address));
  await waitFor('node-down', () => watcher.downs.length === 1);
  t.equal(watcher.downs[0]?.reason, 'node-down', 'a failed member is down for the local system');
  t.notOk(a.net.peersInfo().some((p) => p.node === 'b'), 'and forgotten by the transport');
});

t.test('a reply too large for the wire fails the remote query at once', async (t) => {
  const a = await startNode('a', key);
  const b = await startNode('b', key, { batchBytesMax: 64 * 1024 });
  t.teardown(async () => {
    await a.stop();
    await b.stop();
  });
  a.net.setPeerAddress('b', b.address);
  spawn(
    b.root,
    (_s: undefined, msg: { replyTo: ActorRef<unknown> }) => {
      dispatch(msg.replyTo, { blob: new Uint8Array(200 * 1024) });
      return undefined;
    },
    'big',
  );
  const big = refFromJSON<unknown>(systemOf(a.root), { node: 'b', path: ['big'] });
  const err = await query(big, (replyTo: ActorRef<unknown>) => ({ replyTo }), 20_000).catch((e: unknown) => e);
  t.type(err, UndeliverableError, 'the notice failed the query, not its 20 s timeout (that would be a QueryTimeoutError)');
  t.match(String(err), /could not be encoded/);
  t.equal(systemOf(b.root).deadLetters.stats().byReason.unencodable, 1, 'a dead letter on the replying node');
});
