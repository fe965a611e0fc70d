/**
 * Link protocol v2 (`actor.sends`): what the sender vouches for without scanning its own frames
 * is exactly what a receiver accepts; refs are bound once per frame and a bad one costs only its
 * own messages; an old peer is refused with `version`, never sent frames it cannot read.
 */
import t from 'tap';
import { refFromJSON, systemOf, start, UnserializableMessageError, linkProtocolVersion } from '@shoal/actors';
import type { ActorRef } from '@shoal/actors';
import { seededRandom, type Random, type Stream } from '@shoal/runtime';
import {
  ActorSends,
  DecodeStats,
  LinkOpen,
  LinkRefuse,
  WireCodec,
  batchItem,
  clientHandshake,
  defaultWireLimits,
  isMessage,
  shoalRegistry,
  type Session,
} from '@shoal/wire';
import { WireBodies } from '../src/net/body.js';
import { chunkOf, itemAt, OutboundQueue, outboundQuietDrainsMax, toBatchItems, type Outbound } from '../src/net/sends.js';
import { clusterName, collector, keyringOf, quietWorld, startNode, waitFor } from './net-helpers.js';

// ---- bodies checked at dispatch ⇒ accepted by the receiver ------------------------------------

const pick = <T>(r: Random, xs: readonly T[]): T => xs[r.int(xs.length)]!;

/** Mostly plain data, with every kind of value the wire refuses mixed in now and then. */
function hostileValue(r: Random, depth: number): unknown {
  const leaves: (() => unknown)[] = [
    () => r.int(1000) - 500,
    () => 2 ** 60,
    () => -(2 ** 31) - 1,
    () => r.float(),
    () => pick(r, [NaN, Infinity, -0]),
    () => 'x'.repeat(r.int(100)),
    () => 'é☃😀'.repeat(r.int(30)),
    () => pick(r, ['\ud800', 'a\udc00b', `${'y'.repeat(70)}\ud83d`]),
    () => 'z'.repeat(pick(r, [65_535, 65_536, 70_000])),
    () => '☃'.repeat(21_846), // 65 538 UTF-8 bytes in 21 846 characters
    () => new Uint8Array(r.int(8)),
    () => pick(r, [true, false, null, undefined]),
    () => pick(r, [() => 1, Symbol('s'), 10n, new Date(0), new Map()]),
  ];
  if (depth > 26 || r.chance(0.5)) return pick(r, leaves)();
  if (r.chance(0.5)) return Array.from({ length: r.int(5) }, () => hostileValue(r, depth + 1));
  const obj: Record<string, unknown> = r.chance(0.1) ? (Object.create(null) as Record<string, unknown>) : {};
  for (let i = r.int(5); i > 0; i--) {
    const key = r.chance(0.1) ? pick(r, ['__proto__', 'constructor', 'prototype', 'k\ud800', '']) : `k${r.int(20)}`;
    Object.defineProperty(obj, key, { value: hostileValue(r, depth + 1), enumerable: true, writable: true, configurable: true });
  }
  return obj;
}

const sendOf = (to: ActorRef<unknown>, body: unknown, elements: number): Outbound => ({ k: 'send', to, from: undefined, body, elements });

t.test('a body WireBodies accepts is one the receiver accepts, and its values are counted exactly', async (t) => {
  const system = systemOf(start({ name: 'n1' }));
  const to = refFromJSON(system, { node: 'n2', path: ['sink'] });
  const bodies = new WireBodies(defaultWireLimits);
  const sender = new WireCodec(shoalRegistry, { undefinedFields: 'reject' });
  const receiver = new WireCodec(shoalRegistry);
  const r = seededRandom(7);
  let accepted = 0;
  let refused = 0;
  for (let i = 0; i < 3000; i++) {
    const msg = hostileValue(r, 0);
    let body: unknown;
    try {
      body = bodies.toWire(msg);
    } catch (err) {
      if (!(err instanceof UnserializableMessageError)) throw err;
      refused++;
      continue;
    }
    accepted++;
    const batch = toBatchItems(chunkOf([sendOf(to, body, bodies.elements)]), 0, 1);
    t.ok(batch.checked, 'a sends-only chunk with valid refs is checked');
    const frame = sender.encodeBatch(batch.items, { scan: false });
    const decoded = receiver.decodeBatch(frame);
    if (!decoded.ok) {
      t.fail(`receiver refused a checked body (${decoded.category}: ${decoded.reason})`);
      break;
    }
    // Exact count: the receiver's limit set to it passes, one less fails.
    const exact = new WireCodec(shoalRegistry, { limits: { elementsMax: batch.elements } });
    const under = new WireCodec(shoalRegistry, { limits: { elementsMax: batch.elements - 1 } });
    const under1 = under.decodeBatch(frame);
    if (!exact.decodeBatch(frame).ok || under1.ok || under1.category !== 'too-many-elements') {
      t.fail(`value count ${batch.elements} is not exact for ${JSON.stringify(body)?.slice(0, 80)}`);
      break;
    }
  }
  t.ok(accepted > 500 && refused > 500, `both outcomes exercised (${accepted} accepted, ${refused} refused)`);
  system.stop();
});

t.test('what dispatch refuses: lone surrogates, oversized strings, forbidden keys, with the path', async (t) => {
  const bodies = new WireBodies(defaultWireLimits);
  t.throws(() => bodies.toWire({ a: ['ok', 'x\ud800'] }), /message\.a\[1\] is a string with a lone surrogate/);
  t.throws(() => bodies.toWire({ s: 'z'.repeat(70_000) }), /message\.s is a string longer than 65536 bytes/);
  t.throws(() => bodies.toWire(JSON.parse('{"__proto__": 1}')), /field named __proto__/);
  t.throws(() => bodies.toWire({ constructor: 1 }), /field named constructor/);
  t.throws(() => bodies.toWire({ b: new Uint8Array(2 * 1024 * 1024) }), /binBytesMax/);
  t.same(bodies.toWire({ a: 1, gone: undefined, list: [undefined] }), { a: 1, list: [null] }, 'undefined fields left out, holes null');
  const plain = { a: [1, 'two', { three: true }] };
  t.equal(bodies.toWire(plain), plain, 'plain data is not copied');
  t.equal(bodies.elements, 8, 'values as the scanner counts them: 2 containers, 2 keys, 4 others');
});

t.test('a chunk with a monitor is not vouched for (the codec scans it); a ref cannot have an ill-formed name', async (t) => {
  const system = systemOf(start({ name: 'n1' }));
  const good = refFromJSON(system, { node: 'n2', path: ['a'] });
  t.throws(() => refFromJSON(system, { node: 'n2', path: ['a\ud800'] }), { name: 'InvalidRefError' }, 'a lone surrogate in a segment');
  t.throws(() => refFromJSON(system, { node: 'n\udc00', path: ['a'] }), { name: 'InvalidRefError' }, 'a lone surrogate in the node');
  t.ok(toBatchItems(chunkOf([sendOf(good, 1, 1)]), 0, 1).checked);
  const monitor: Outbound = { k: 'monitor', watcher: { node: 'n1', path: ['w'] }, target: { node: 'n2', path: ['a'] }, id: 1 };
  const mixed = toBatchItems(chunkOf([sendOf(good, 1, 1), monitor, sendOf(good, 2, 1)]), 0, 3);
  t.notOk(mixed.checked, 'monitors in the chunk');
  t.same(mixed.items.map((i) => i.type.name), ['actor.sends', 'actor.monitor', 'actor.sends'], 'order kept');
  system.stop();
});

t.test('OutboundQueue is FIFO across growth and wrap-around, for every kind of item', async (t) => {
  const system = systemOf(start({ name: 'n1' }));
  const to = refFromJSON(system, { node: 'n2', path: ['a'] });
  const q = new OutboundQueue();
  const out: unknown[] = [];
  let next = 0;
  const pushOne = (): void => {
    const n = next++;
    if (n % 5 === 0) q.push({ k: n % 10 === 0 ? 'monitor' : 'demonitor', watcher: { node: 'n1', path: ['w'] }, target: { node: 'n2', path: ['a'] }, id: n });
    else q.pushSend(to, n % 3 === 0 ? to : undefined, n, n % 7);
  };
  for (let round = 0; round < 600; round++) {
    for (let i = 0; i < 7; i++) pushOne();
    for (let i = 0; i < 5; i++) out.push(q.shift());
  }
  while (q.size > 0) out.push(q.shift());
  t.equal(q.shift(), undefined);
  t.equal(out.length, next);
  const ok = out.every((item, n) => {
    const o = item as Outbound;
    if (n % 5 === 0) return o.k === (n % 10 === 0 ? 'monitor' : 'demonitor') && o.id === n;
    return o.k === 'send' && o.body === n && o.elements === n % 7 && o.to === to && o.from === (n % 3 === 0 ? to : undefined);
  });
  t.ok(ok, 'every item back, in order, unchanged');
  system.stop();
});

t.test('OutboundQueue.takeInto moves a frame\'s worth of items as slots, in order, and keeps a busy buffer', async (t) => {
  const system = systemOf(start({ name: 'n1' }));
  const to = refFromJSON(system, { node: 'n2', path: ['a'] });
  const q = new OutboundQueue();
  const chunk: unknown[] = [];
  for (let i = 0; i < 5000; i++) q.pushSend(to, undefined, i, 1);
  const cap = q.capacity;
  const seen: unknown[] = [];
  while (q.size > 0) {
    const n = q.takeInto(chunk, 1024);
    t.ok(n > 0 && n <= 1024);
    for (let i = 0; i < n; i++) seen.push(itemAt(chunk, 4 * i).k === 'send' ? (itemAt(chunk, 4 * i) as { body: unknown }).body : 'monitor?');
    chunk.fill(undefined);
  }
  t.same(seen, [...Array(5000).keys()], 'every body, in order');
  for (let i = 0; i < 4000; i++) q.pushSend(to, undefined, i, 1);
  t.equal(q.capacity, cap, 'a second burst of the same size reuses the buffer');
  while (q.size > 0) q.takeInto(chunk, 1024);
  for (let i = 0; i < outboundQuietDrainsMax; i++) {
    q.pushSend(to, undefined, 0, 1);
    q.shift();
  }
  t.equal(q.capacity, 0, 'quiet cycles give the large buffer back');
  t.equal(q.takeInto(chunk, 10), 0, 'an empty queue gives nothing');
  system.stop();
});

// ---- the link: version refusal, bad refs in a frame ------------------------------------------

/** A raw client: connects, runs the handshake, sends link-open `{ v }`; returns the session. */
async function rawClient(address: string, v: number): Promise<{ stream: Stream; session: Session; frames: Uint8Array[]; closed: () => boolean }> {
  const world = quietWorld();
  const stream = await world.transport.connectStream(address, { maxFrameBytes: 1 << 20, timeoutMs: 2000 });
  const hs = clientHandshake({ keyring: keyringOf(1), cluster: clusterName, node: 'raw', random: seededRandom(3), stats: new DecodeStats() });
  const frames: Uint8Array[] = [];
  let session: Session | undefined;
  let closed = false;
  const codec = new WireCodec(shoalRegistry);
  await new Promise<void>((resolve, reject) => {
    stream.attach({
      onFrame: (frame) => {
        if (session) {
          frames.push(frame);
          return;
        }
        const step = hs.receive(frame);
        if (step.error) return reject(new Error(step.error.reason));
        if (step.send) stream.send(step.send);
        if (step.done) {
          session = step.done.session;
          stream.send(session.seal(codec.encode(LinkOpen, { v, incarnation: '00112233aabbccdd' })));
          resolve();
        }
      },
      onClose: () => {
        closed = true;
      },
    });
    stream.send(hs.start());
  });
  return { stream, session: session!, frames, closed: () => closed };
}

t.test('an old peer (link protocol v1) is refused with `version` before anything is sent', async (t) => {
  const server = await startNode('srv', keyringOf(1));
  t.teardown(() => server.stop());
  const raw = await rawClient(server.address, 1);
  await waitFor('the answer', () => raw.frames.length > 0);
  const codec = new WireCodec(shoalRegistry);
  const opened = raw.session.open(raw.frames[0]!);
  const answer = opened.ok ? codec.decode(opened.plaintext) : undefined;
  t.ok(answer?.ok && isMessage(answer, LinkRefuse) && answer.body.reason === 'version', 'link-refuse { reason: version }');
  await waitFor('the refusal counted', () => server.net.stats.refused.version === 1);
  await waitFor('the server closes the link', () => raw.closed());
  t.equal(raw.frames.length, 1, 'nothing else before the close');
  raw.stream.close('done');
  t.equal(linkProtocolVersion, 2);
});

t.test('a ref that does not bind costs only its own messages; the rest of the frame arrives', async (t) => {
  const server = await startNode('srv', keyringOf(1));
  t.teardown(() => server.stop());
  const sink = collector(server.root, 'sink');
  const raw = await rawClient(server.address, linkProtocolVersion);
  await waitFor('accepted', () => raw.frames.length > 0);
  const codec = new WireCodec(shoalRegistry);
  const refs = [
    { node: 'srv', path: ['sink'] },
    { node: 'srv', path: ['a/b'] }, // a segment with '/': refFromJSON refuses it
  ];
  const items = [0, null, 'one', 1, null, 'lost', 0, 1, 'two (bad sender)', 0, null, 'three'];
  raw.stream.send(raw.session.seal(codec.encodeBatch([batchItem(ActorSends, { refs, items })])));
  await waitFor('two messages', () => sink.got.length === 2);
  t.same(sink.got, ['one', 'three']);
  t.equal(server.net.stats.inboundErrors, 2);
  t.equal(server.net.stats.messagesIn, 4);
  t.equal(server.net.peersInfo().find((p) => p.node === 'raw')?.state, 'connected', 'the link stays up');
  raw.stream.close('done');
});
