/** The ring buffers: FIFO across wrap-around and growth, pairs kept together, memory given back. */
import t from 'tap';
import { PairQueue, quietDrains, quietDrainsMax, RingQueue, retainSlotsMax } from '../src/queue.js';

t.test('RingQueue is FIFO across wrap-around and growth', async (t) => {
  const q = new RingQueue<number>();
  const out: number[] = [];
  let next = 0;
  // Interleave pushes and shifts so head wraps while the buffer grows.
  for (let round = 0; round < 200; round++) {
    for (let i = 0; i < 7; i++) q.push(next++);
    for (let i = 0; i < 5; i++) out.push(q.shift()!);
  }
  while (q.size > 0) out.push(q.shift()!);
  t.same(out, [...Array(next).keys()]);
  t.equal(q.shift(), undefined);
});

t.test('PairQueue keeps message and sender together, in order', async (t) => {
  const q = new PairQueue();
  for (let i = 0; i < 3000; i++) {
    q.push(i, `s${i}`);
    if (i % 3 === 0) q.dropFront();
  }
  t.equal(q.size, 2000);
  t.same(q.snapshot().slice(0, 2), [
    { message: 1000, sender: 's1000' },
    { message: 1001, sender: 's1001' },
  ]);
  const all = q.takeAll();
  t.equal(all.length, 2000);
  t.ok(all.every((e) => e.sender === `s${String(e.message)}`));
  t.equal(q.size, 0);
  q.push('again', undefined);
  t.equal(q.frontMessage(), 'again');
  t.equal(retainSlotsMax, 1024);
});

t.test('quietDrains: small buffers never counted, large ones while a cycle used at most a quarter', async (t) => {
  const cases: [slots: number, peakSlots: number, before: number, after: number][] = [
    [0, 0, 0, 0],
    [retainSlotsMax, 1, 3, 0],
    [retainSlotsMax * 2, 1, 0, 1],
    [retainSlotsMax * 2, retainSlotsMax / 2, 4, 5], // exactly a quarter: quiet
    [retainSlotsMax * 2, retainSlotsMax / 2 + 1, 5, 0], // a busy cycle starts the count again
    [1 << 20, 1 << 20, 7, 0],
    [1 << 20, (1 << 18) - 1, 7, 8],
  ];
  for (const [slots, peak, before, after] of cases) t.equal(quietDrains(slots, peak, before), after, `${slots} slots, peak ${peak}, ${before} before`);
});

t.test('a queue that cycles in bursts keeps its buffer; quiet cycles give it back', async (t) => {
  const ring = new RingQueue<number>();
  const pairs = new PairQueue();
  const cycle = (n: number): void => {
    for (let i = 0; i < n; i++) {
      ring.push(i);
      pairs.push(i, undefined);
    }
    while (ring.size > 0) ring.shift();
    while (pairs.size > 0) pairs.dropFront();
  };
  cycle(10_000);
  const [ringCap, pairCap] = [ring.capacity, pairs.capacity];
  t.ok(ringCap >= 10_000 && pairCap >= 10_000, 'grown for the burst');
  for (let i = 0; i < quietDrainsMax - 1; i++) cycle(1);
  cycle(9_000);
  t.equal(ring.capacity, ringCap, 'bursts between quiet cycles reuse the buffer');
  t.equal(pairs.capacity, pairCap);
  for (let i = 0; i < quietDrainsMax - 1; i++) cycle(1);
  t.equal(ring.capacity, ringCap, 'kept until the last quiet drain');
  cycle(1);
  t.equal(ring.capacity, 0, `${quietDrainsMax} quiet cycles give the large buffer back`);
  t.equal(pairs.capacity, 0);
  cycle(100);
  for (let i = 0; i < 2 * quietDrainsMax; i++) cycle(1);
  t.ok(ring.capacity > 0 && ring.capacity <= retainSlotsMax, 'a small buffer is kept');
});
