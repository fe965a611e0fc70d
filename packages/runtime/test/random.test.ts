import t from 'tap';
import { seededRandom, nodeRandom } from '@shoal/runtime';

t.test('the same seed gives the same sequence', async (t) => {
  const a = seededRandom(42);
  const b = seededRandom(42);
  const xs = Array.from({ length: 100 }, () => a.float());
  const ys = Array.from({ length: 100 }, () => b.float());
  t.same(xs, ys);
  t.same(a.bytes(33), b.bytes(33));
  t.equal(a.uuid(), b.uuid());
  t.notSame(seededRandom(43).float(), seededRandom(42).float());
});

t.test('floats are in [0, 1) and ints in range, roughly uniform', async (t) => {
  const r = seededRandom(7);
  const buckets = new Array<number>(10).fill(0);
  let outOfRange = 0;
  for (let i = 0; i < 100_000; i++) {
    const f = r.float();
    if (!(f >= 0 && f < 1)) outOfRange++;
    const k = r.int(10);
    buckets[k] = (buckets[k] ?? 0) + 1;
  }
  t.equal(outOfRange, 0, 'every float in [0, 1)');
  for (const count of buckets) t.ok(count > 9_000 && count < 11_000, `bucket count ${count} near 10000`);
  t.throws(() => r.int(0), RangeError);
  t.throws(() => r.int(1.5), RangeError);
});

t.test('uuid has version 4 and the RFC 4122 variant', async (t) => {
  for (const r of [seededRandom(1), nodeRandom()]) {
    t.match(r.uuid(), /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  }
});

t.test('shuffle is a permutation; fork is deterministic', async (t) => {
  const items = Array.from({ length: 50 }, (_, i) => i);
  const shuffled = seededRandom(3).shuffle([...items]);
  t.same([...shuffled].sort((a, b) => a - b), items);
  t.notSame(shuffled, items);
  t.equal(seededRandom(9).fork().float(), seededRandom(9).fork().float());
});
