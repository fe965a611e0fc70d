// The simulated network: loss, duplication, reordering, partitions, streams under faults.
import t from 'tap';
import { ConnectError, type Address, type DatagramEndpoint, type Stream } from '@shoal/runtime';
import { Sim, SimBindError, type SimNode } from '@shoal/sim';

interface Inbox {
  ep: DatagramEndpoint;
  got: { seq: number; from: Address; atMs: number }[];
}

async function bindAll(sim: Sim, nodes: SimNode[]): Promise<Map<string, Inbox>> {
  const out = new Map<string, Inbox>();
  for (const n of nodes) {
    const got: Inbox['got'] = [];
    const ep = await sim.settle(n.world.transport.bindDatagram(n.address(7000), (data, from) => got.push({ seq: new DataView(data.buffer, data.byteOffset).getUint32(0), from, atMs: sim.nowMs })));
    out.set(n.name, { ep, got });
  }
  return out;
}

function packet(seq: number): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setUint32(0, seq);
  return b;
}

t.test('loss rate is close to the configured one', async (t) => {
  const sim = new Sim({ seed: 11, link: { lossRate: 0.2 } });
  const [a, b] = [sim.addNode('a'), sim.addNode('b')];
  const eps = await bindAll(sim, [a, b]);
  for (let i = 0; i < 10_000; i++) eps.get('a')!.ep.send(b.address(7000), packet(i));
  await sim.run();
  const got = eps.get('b')!.got.length;
  t.ok(got > 7850 && got < 8150, `delivered ${got} of 10000 at 20% loss (±3σ)`);
  t.equal(sim.stats.net.datagramsDropped.loss, 10_000 - got);
  t.ok(eps.get('b')!.got.every((g) => g.from === a.address(7000)), 'from is the sender address');
});

t.test('duplication delivers some datagrams twice', async (t) => {
  const sim = new Sim({ seed: 12, link: { duplicateRate: 0.1 } });
  const [a, b] = [sim.addNode('a'), sim.addNode('b')];
  const eps = await bindAll(sim, [a, b]);
  for (let i = 0; i < 5000; i++) eps.get('a')!.ep.send(b.address(7000), packet(i));
  await sim.run();
  const got = eps.get('b')!.got;
  const distinct = new Set(got.map((g) => g.seq)).size;
  t.equal(distinct, 5000, 'nothing lost');
  t.ok(got.length > 5350 && got.length < 5650, `${got.length - 5000} duplicates of 5000 at 10%`);
  t.equal(sim.stats.net.datagramsDuplicated, got.length - 5000);
});

t.test('reordering makes later datagrams overtake earlier ones', async (t) => {
  const inversions = async (reorderRate: number): Promise<number> => {
    const sim = new Sim({ seed: 13, link: { latencyMinMs: 1, latencyMaxMs: 1, reorderRate, reorderDelayMaxMs: 20 } });
    const [a, b] = [sim.addNode('a'), sim.addNode('b')];
    const eps = await bindAll(sim, [a, b]);
    for (let i = 0; i < 1000; i++) sim.at(i, () => eps.get('a')!.ep.send(b.address(7000), packet(i)));
    await sim.run();
    const seqs = eps.get('b')!.got.map((g) => g.seq);
    let n = 0;
    for (let i = 1; i < seqs.length; i++) if ((seqs[i] as number) < (seqs[i - 1] as number)) n++;
    return n;
  };
  t.equal(await inversions(0), 0, 'fixed latency, no reordering: FIFO');
  const n = await inversions(0.3);
  t.ok(n > 100, `${n} inversions with 30% reordering`);
});

t.test('partitions drop exactly what they cut; heal restores', async (t) => {
  const sim = new Sim({ seed: 14 });
  const nodes = ['a', 'b', 'c'].map((n) => sim.addNode(n));
  const eps = await bindAll(sim, nodes);
  const round = async (): Promise<string[]> => {
    for (const e of eps.values()) e.got.length = 0;
    for (const from of nodes) for (const to of nodes) if (from !== to) eps.get(from.name)!.ep.send(to.address(7000), packet(0));
    await sim.runFor(100);
    const links: string[] = [];
    for (const to of nodes) for (const g of eps.get(to.name)!.got) links.push(`${nodes.find((n) => g.from === n.address(7000))!.name}>${to.name}`);
    return links.sort();
  };
  const all = ['a>b', 'a>c', 'b>a', 'b>c', 'c>a', 'c>b'];
  t.same(await round(), all, 'all links up');
  sim.partition(['a'], ['b', 'c']);
  t.same(await round(), ['b>c', 'c>b'], 'symmetric: a cut off both ways');
  sim.heal();
  t.same(await round(), all, 'healed');
  sim.blockOneWay('a', 'b');
  t.same(await round(), ['a>c', 'b>a', 'b>c', 'c>a', 'c>b'], 'asymmetric: only a>b dropped');
  sim.heal();
  sim.isolate('c');
  t.same(await round(), ['a>b', 'b>a'], 'isolated c neither sends nor receives');
  sim.heal();
  sim.partition(['b']);
  t.same(await round(), ['a>c', 'c>a'], 'partition with one group splits it from the rest');
  sim.heal();
  t.same(await round(), all);
});

t.test('a datagram in flight when a cut happens is lost; oversize and unroutable ones are dropped', async (t) => {
  const sim = new Sim({ seed: 15, link: { latencyMinMs: 10, latencyMaxMs: 10 } });
  const [a, b] = [sim.addNode('a'), sim.addNode('b')];
  const eps = await bindAll(sim, [a, b]);
  eps.get('a')!.ep.send(b.address(7000), packet(1));
  await sim.runFor(5);
  sim.partition(['a'], ['b']);
  await sim.runFor(20);
  sim.heal();
  eps.get('a')!.ep.send(b.address(7000), new Uint8Array(65_508));
  eps.get('a')!.ep.send('10.9.9.9:7000', packet(2));
  eps.get('a')!.ep.send(b.address(7001), packet(3));
  eps.get('a')!.ep.send(b.address(7000), new Uint8Array(65_507));
  await sim.runFor(20);
  t.same(eps.get('b')!.got.map((g) => g.seq), [0], 'only the max-size datagram arrived');
  t.match(sim.stats.net.datagramsDropped, { cut: 1, oversize: 1, 'no-route': 1, 'no-listener': 1 });
});

t.test('bandwidth serializes sends on a link', async (t) => {
  const sim = new Sim({ seed: 16, link: { latencyMinMs: 1, latencyMaxMs: 1, bandwidthBytesPerMs: 1000 } });
  const [a, b] = [sim.addNode('a'), sim.addNode('b')];
  const eps = await bindAll(sim, [a, b]);
  for (let i = 0; i < 10; i++) eps.get('a')!.ep.send(b.address(7000), new Uint8Array(10_000));
  await sim.run();
  t.same(eps.get('b')!.got.map((g) => g.atMs), [11, 21, 31, 41, 51, 61, 71, 81, 91, 101], '10 ms per 10 kB, plus 1 ms latency');
});

t.test('binding: own host or 0.0.0.0, ports in use, ephemeral ports', async (t) => {
  const sim = new Sim({ seed: 17 });
  const a = sim.addNode('a');
  sim.addNode('b');
  const tr = a.world.transport;
  const e1 = await sim.settle(tr.bindDatagram('0.0.0.0:0', () => undefined));
  t.equal(e1.local, `${a.host}:49152`);
  await t.rejects(sim.settle(tr.bindDatagram(e1.local, () => undefined)), SimBindError, 'port in use');
  await t.rejects(sim.settle(tr.bindDatagram('10.0.0.2:1', () => undefined)), SimBindError, "another node's host");
  await sim.settle(e1.close());
  const e2 = await sim.settle(tr.bindDatagram(e1.local, () => undefined));
  t.equal(e2.local, e1.local, 'a closed port can be bound again');
});

async function streamPair(sim: Sim, client: SimNode, server: SimNode): Promise<{ c: Stream; s: Stream; cClosed: () => string | undefined; sClosed: () => string | undefined; sGot: Uint8Array[]; cClosedAt: () => number; sClosedAt: () => number }> {
  let s: Stream | undefined;
  await sim.settle(server.world.transport.listenStreams(server.address(7100), (st) => (s = st), { maxFrameBytes: 1 << 20 }));
  const c = await sim.settle(client.world.transport.connectStream(server.address(7100), { maxFrameBytes: 1 << 20 }));
  let cReason: string | undefined;
  let sReason: string | undefined;
  let cAt = NaN;
  let sAt = NaN;
  const sGot: Uint8Array[] = [];
  c.attach({ onFrame: () => undefined, onClose: (r) => ((cReason = r), (cAt = sim.nowMs)) });
  s!.attach({ onFrame: (f) => sGot.push(f), onClose: (r) => ((sReason = r), (sAt = sim.nowMs)) });
  return { c, s: s!, cClosed: () => cReason, sClosed: () => sReason, sGot, cClosedAt: () => cAt, sClosedAt: () => sAt };
}

t.test('a partition breaks a stream: nothing more is delivered, both ends close after the timeout', async (t) => {
  const sim = new Sim({ seed: 18, streamBreakTimeoutMs: 3000 });
  const [a, b] = [sim.addNode('a'), sim.addNode('b')];
  const p = await streamPair(sim, a, b);
  p.c.send(new Uint8Array(1));
  await sim.runFor(10);
  t.equal(p.sGot.length, 1);
  const cutAt = sim.nowMs;
  sim.blockOneWay('b', 'a');
  p.c.send(new Uint8Array(2));
  await sim.runFor(100);
  sim.heal();
  await sim.runFor(5000);
  t.equal(p.sGot.length, 1, 'a frame sent after the cut is never delivered, even after heal');
  t.match(p.cClosed(), /timed out/);
  t.match(p.sClosed(), /timed out/);
  t.equal(p.cClosedAt() - cutAt, 3000, 'client closes streamBreakTimeoutMs after the cut');
  t.equal(p.sClosedAt() - cutAt, 3000, 'server too');
  t.equal(sim.stats.net.streamsBroken, 1);
});

t.test('a crash breaks streams: the peer sees the close after the link delay', async (t) => {
  const sim = new Sim({ seed: 19, link: { latencyMinMs: 4, latencyMaxMs: 4 } });
  const [a, b] = [sim.addNode('a'), sim.addNode('b')];
  const p = await streamPair(sim, a, b);
  p.c.send(new Uint8Array(3));
  const crashAt = sim.nowMs;
  sim.crash('a');
  await sim.runFor(100);
  t.equal(p.sGot.length, 1, 'the frame sent before the crash still arrives');
  t.match(p.sClosed(), /a crashed/);
  t.equal(p.sClosedAt() - crashAt, 4, 'after one link delay');
  t.equal(p.cClosed(), undefined, 'the dead side hears nothing');
  t.equal(p.c.closed, true);
});

t.test('connect: refused after a round trip, across a cut after the timeout', async (t) => {
  const sim = new Sim({ seed: 20, link: { latencyMinMs: 3, latencyMaxMs: 3 } });
  const [a, b] = [sim.addNode('a'), sim.addNode('b')];
  let start = sim.nowMs;
  await t.rejects(sim.settle(a.world.transport.connectStream(b.address(1), { maxFrameBytes: 100 })), ConnectError);
  t.equal(sim.nowMs - start, 6, 'refused after one round trip');
  await sim.settle(b.world.transport.listenStreams(b.address(7100), () => undefined, { maxFrameBytes: 100 }));
  sim.partition(['a'], ['b']);
  start = sim.nowMs;
  await t.rejects(sim.settle(a.world.transport.connectStream(b.address(7100), { maxFrameBytes: 100, timeoutMs: 1500 })), /timed out after 1500 ms/);
  t.equal(sim.nowMs - start, 1500, 'across a cut: after the timeout');
  sim.heal();
  b.crash();
  start = sim.nowMs;
  await t.rejects(sim.settle(a.world.transport.connectStream(b.address(7100), { maxFrameBytes: 100 })), ConnectError);
  t.equal(sim.nowMs - start, 5000, 'to a down host: after the default timeout');
});
