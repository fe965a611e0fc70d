// Anti-entropy hash trees: incremental updates equal a fresh build whatever the order; the
// top-down diff finds exactly the segments whose contents differ; the key diff finds exactly the
// keys that differ or are missing on one side.
import t from 'tap';
import fc from 'fast-check';
import { HashTree, aaeSegments, diffKeyHashes, diffSegments, keyHash, segmentOf, treeLevels } from '@shoal/ring';
import { fcOptions } from './helpers.js';

const contents = fc.dictionary(fc.stringMatching(/^[a-z]{1,6}$/), fc.integer({ min: 1, max: 0xffffffff }), { maxKeys: 60 });

/** What a vnode stores per key: the hash of the key and its record (here, the number). */
const h = (k: string, v: number | undefined): number | undefined => (v === undefined ? undefined : keyHash(k, Buffer.from(String(v))));

function build(map: Record<string, number>, order: string[] = Object.keys(map)): HashTree {
  const tree = new HashTree(64);
  for (const k of order) tree.set(k, h(k, map[k]));
  return tree;
}

t.test('a tree depends on its contents only (order, overwrites and removals)', async (t) => {
  fc.assert(
    fc.property(contents, contents, fc.integer(), (a, noise, seed) => {
      const keys = Object.keys(a);
      const shuffled = fc.sample(fc.shuffledSubarray(keys, { minLength: keys.length, maxLength: keys.length }), { seed, numRuns: 1 })[0]!;
      const x = build(a);
      const y = new HashTree(64);
      for (const [k, v] of Object.entries(noise)) y.set(k, h(k, v)); // junk first…
      for (const k of Object.keys(noise)) y.set(k, undefined); // …removed again
      for (const k of shuffled) y.set(k, h(k, a[k]));
      return Buffer.compare(Buffer.from(x.segments.buffer), Buffer.from(y.segments.buffer)) === 0 && x.root() === y.root() && x.size === keys.length;
    }),
    fcOptions(200),
  );
  t.pass('holds');
});

t.test('diffSegments finds exactly the segments whose key sets differ', async (t) => {
  fc.assert(
    fc.property(contents, contents, (a, b) => {
      const x = build(a);
      const y = build(b);
      const differing = new Set<number>();
      for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) if (a[k] !== b[k]) differing.add(segmentOf(k, 64));
      // Sums of 32-bit hashes could collide (≈ 2^-32 per segment); not in these runs.
      const found = diffSegments(x.segments, y.segments, 4);
      return JSON.stringify(found) === JSON.stringify([...differing].sort((m, n) => m - n));
    }),
    fcOptions(300),
  );
  t.pass('holds');
});

t.test('diffKeyHashes finds exactly the keys that differ or are missing', async (t) => {
  fc.assert(
    fc.property(contents, contents, (a, b) => {
      const x = build(a).keyHashes([...Array(64).keys()]);
      const y = build(b).keyHashes([...Array(64).keys()]);
      const expected = [...new Set([...Object.keys(a), ...Object.keys(b)])].filter((k) => a[k] !== b[k]).sort();
      return JSON.stringify(diffKeyHashes(x, y)) === JSON.stringify(expected);
    }),
    fcOptions(300),
  );
  t.pass('holds');
});

t.test('levels, sizes and hashes', async (t) => {
  const levels = treeLevels(new Uint32Array(aaeSegments));
  t.same(levels.map((l) => l.length), [256, 16, 1], '256 segments → 16 → root');
  t.same(diffSegments(new Uint32Array(1), new Uint32Array([5])), [0], 'one segment');
  t.throws(() => diffSegments(new Uint32Array(4), new Uint32Array(8)), RangeError);
  const bytes = Uint8Array.of(1, 2, 3);
  t.equal(keyHash('a\u0000b', bytes), keyHash('a\u0000b', Uint8Array.of(1, 2, 3)), 'same key and bytes, same hash');
  t.not(keyHash('a\u0000b', bytes), keyHash('a\u0000c', bytes), 'the key is part of the hash');
  t.not(keyHash('k', bytes), 0, 'never 0');
  const tree = new HashTree();
  tree.set('k', 7);
  t.equal(tree.get('k'), 7);
  tree.set('k', undefined);
  t.equal(tree.get('k'), undefined);
  t.equal(tree.root(), new HashTree().root(), 'empty again');
  t.equal(tree.size, 0);
});

t.test('a segment holds a map only while it has keys; emptied segments give theirs back', async (t) => {
  const tree = new HashTree(16);
  const maps = (): number => (tree as unknown as { keys: (Map<string, number> | undefined)[] }).keys.filter((m) => m !== undefined).length;
  t.equal(maps(), 0, 'a new tree allocates no segment maps');
  const keys = Array.from({ length: 40 }, (_, i) => `k${i}`);
  for (const [i, k] of keys.entries()) tree.set(k, i + 1);
  const used = new Set(keys.map((k) => segmentOf(k, 16))).size;
  t.equal(maps(), used, 'one map per segment that holds keys');
  t.same(tree.keyHashes(Array.from({ length: 16 }, (_, s) => s)).length, 40);
  tree.set('absent', undefined);
  t.equal(tree.size, 40, 'removing an absent key changes nothing');
  for (const k of keys) tree.set(k, undefined);
  t.equal(maps(), 0);
  t.equal(tree.size, 0);
  t.same(Array.from(tree.segments), new Array(16).fill(0));
  t.same(tree.keyHashes([0, 1, 2]), []);
});

t.test('record hashes are pinned: first 32 bits of SHA-1(key ‖ 0 ‖ bytes), as every node must compute them', async (t) => {
  // Vectors computed independently (Python hashlib); AAE compares these across nodes and versions.
  t.equal(keyHash('bench\u0000key-1', Uint8Array.of(1, 2, 3)), 631653941);
  t.equal(keyHash('vms\u0000café-☃', new Uint8Array(0)), 107129784);
  t.equal(keyHash('', Uint8Array.from([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])), 4094218711);
});
