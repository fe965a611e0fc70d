/** The ring buffers: FIFO across wrap-around and growth, pairs kept together, memory given back. */
import t from 'tap';
import { PairQueue, RingQueue, retainSlotsMax } from '../src/queue.js';

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
