/**
 * Storage compliance: what every `Storage` must do (see src/storage.ts for the contract).
 *
 * get/put/delete, value round trips, range with start/end/limit/reverse, key order equal to
 * `compareKeys` on random tuple keys (negative and large integers, empty strings, multi-byte
 * UTF-8 including astral characters, prefixes), atomic batches, visibility once a write's
 * promise resolves, separate stores, reopen after close, values copied in and out, and KeyError
 * for every malformed key. Each subtest gets a fresh harness.
 */
import type { Test } from 'tap';
import { KeyError, compareKeys, seededRandom, type Key, type KeyPart, type Random, type Storage } from '../../src/index.js';

export interface StorageHarness {
  /** Opens (or reopens after close) the environment named `name`. */
  open(name: string): Promise<Storage>;
  /** Waits for a storage promise; the simulator advances its clock meanwhile. */
  settle<T>(promise: Promise<T>): Promise<T>;
  cleanup?(): Promise<void>;
}

export type MakeStorage = () => Promise<StorageHarness>;

const stringPool = ['', 'a', 'ab', 'abc', 'b', ' ', '!', '~', '\u007f', '\u0080', 'é', 'e\u0301', '€', '中文', '😀', '\ue000', '\uffff', 'Z', 'zz', '0', '10', '9'];
const charPool = ['a', 'b', 'z', 'A', ' ', '~', '\u007f', 'é', 'ß', '€', '中', '😀', '𝄞', '\ue000', '\uffff', '0'];

function randomPart(r: Random): KeyPart {
  switch (r.int(6)) {
    case 0:
      return r.int(2001) - 1000;
    case 1:
      return [0, 1, -1, 255, 256, -256, 65536, Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER, 2 ** 32, -(2 ** 31)][r.int(11)] as number;
    case 2:
      return (r.chance(0.5) ? 1 : -1) * r.int(2 ** 40);
    case 3:
      return stringPool[r.int(stringPool.length)] as string;
    default: {
      let s = '';
      const n = r.int(6);
      for (let i = 0; i < n; i++) s += charPool[r.int(charPool.length)];
      return s;
    }
  }
}

export function randomKeys(r: Random, count: number): Key[] {
  const seen = new Map<string, Key>();
  while (seen.size < count) {
    const key = Array.from({ length: 1 + r.int(4) }, () => randomPart(r));
    seen.set(JSON.stringify(key), key);
  }
  return [...seen.values()];
}

type H = StorageHarness;

async function withStorage(t: Test, make: MakeStorage, fn: (h: H, s: Storage) => Promise<void>): Promise<void> {
  const h = await make();
  const s = await h.open('env');
  try {
    await fn(h, s);
  } finally {
    await h.settle(s.close());
    await h.cleanup?.();
  }
  t.pass('storage closed');
}

const storageCases: Record<string, (t: Test, make: MakeStorage) => Promise<void>> = {
  'get, put, overwrite, delete': (t, make) => withStorage(t, make, async (h, s) => {
    const store = s.store<unknown>('kv');
    t.equal(store.get(['missing']), undefined, 'missing key reads undefined');
    await h.settle(store.put(['a'], 1));
    t.equal(store.get(['a']), 1);
    await h.settle(store.put(['a'], 'two'));
    t.equal(store.get(['a']), 'two', 'overwrite');
    await h.settle(store.delete(['a']));
    t.equal(store.get(['a']), undefined, 'deleted');
    await h.settle(store.delete(['never-there']));
    t.pass('deleting a missing key is fine');
  }),

  'values round-trip and are copies': (t, make) => withStorage(t, make, async (h, s) => {
    const store = s.store<unknown>('values');
    const values: unknown[] = [{ a: 1, b: [1, 'x', null, true, { c: -2.5 }] }, [], {}, 'héllo 😀', 0, -7, 3.25, true, false, null, ''];
    await h.settle(Promise.all(values.map((v, i) => store.put(['v', i], v))));
    values.forEach((v, i) => t.same(store.get(['v', i]), v, `value ${JSON.stringify(v)}`));
    await h.settle(store.put(['bytes'], new Uint8Array([0, 1, 254, 255])));
    const bytes = store.get(['bytes']);
    t.ok(bytes instanceof Uint8Array, 'bytes come back as a Uint8Array');
    t.same([...(bytes as Uint8Array)], [0, 1, 254, 255]);
    const obj = { n: 1, list: [1] };
    const written = store.put(['obj'], obj);
    obj.n = 2;
    obj.list.push(2);
    await h.settle(written);
    const read = store.get(['obj']) as { n: number; list: number[] };
    t.same(read, { n: 1, list: [1] }, 'changing the object after put does not change what is stored');
    read.list.push(3);
    t.same(store.get(['obj']), { n: 1, list: [1] }, 'changing a read value does not change what is stored');
  }),

  'range: start, end, limit, reverse': (t, make) => withStorage(t, make, async (h, s) => {
    const store = s.store<number>('range');
    await h.settle(store.batch([...Array(10).keys()].map((i) => ({ op: 'put' as const, key: ['r', i], value: i }))));
    await h.settle(store.batch([{ op: 'put', key: ['q'], value: -1 }, { op: 'put', key: ['s'], value: 99 }]));
    const vals = (opts: Parameters<typeof store.range>[0]): number[] => [...store.range(opts)].map((e) => e.value);
    t.same(vals({}), [-1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 99], 'whole store in key order');
    t.same(vals({ start: ['r', 3], end: ['r', 6] }), [3, 4, 5], 'start inclusive, end exclusive');
    t.same(vals({ start: ['r'], end: ['r', 2] }), [0, 1], 'a prefix sorts before its extensions');
    t.same(vals({ start: ['r', 3], limit: 2 }), [3, 4], 'limit');
    t.same(vals({ reverse: true, limit: 3 }), [99, 9, 8], 'reverse with limit');
    t.same(vals({ start: ['r', 6], end: ['r', 3], reverse: true }), [6, 5, 4], 'reverse: start is the inclusive upper bound, end the exclusive lower');
    t.same(vals({ start: ['r', 6], end: ['r', 3] }), [], 'forward with start after end is empty');
    const first = [...store.range({ limit: 1 })][0];
    t.same(first?.key, ['q'], 'keys come back as tuples, single-part ones included');
    t.same([...store.range({ start: ['r', 8] })].map((e) => e.key), [['r', 8], ['r', 9], ['s']]);
  }),

  'key order equals compareKeys on random tuple keys': (t, make) => withStorage(t, make, async (h, s) => {
    const store = s.store<number>('order');
    const keys = randomKeys(seededRandom(20240611), 600);
    const shuffled = seededRandom(7).shuffle([...keys]);
    for (let i = 0; i < shuffled.length; i += 100) {
      await h.settle(store.batch(shuffled.slice(i, i + 100).map((key) => ({ op: 'put' as const, key, value: keys.indexOf(key) }))));
    }
    const expected = [...keys].sort(compareKeys);
    const got = [...store.range()].map((e) => e.key);
    t.equal(got.length, keys.length, 'every key is distinct in the store');
    const firstMismatch = got.findIndex((k, i) => compareKeys(k, expected[i] as Key) !== 0);
    t.equal(firstMismatch, -1, firstMismatch < 0 ? 'order matches' : `first mismatch at ${firstMismatch}: ${JSON.stringify(got[firstMismatch])} vs ${JSON.stringify(expected[firstMismatch])}`);
    t.same([...store.range({ reverse: true })].map((e) => e.key), [...expected].reverse(), 'reverse order too');
    const misread = keys.filter((k, i) => store.get(k) !== i);
    t.same(misread, [], 'every key reads back its own value');
    for (let i = 0; i < 20; i++) {
      const a = expected[i * 25] as Key;
      const b = expected[i * 25 + 17] as Key;
      t.same([...store.range({ start: a, end: b })].map((e) => e.key), expected.slice(i * 25, i * 25 + 17), `range ${JSON.stringify(a)}..${JSON.stringify(b)}`);
    }
  }),

  'batches are atomic': (t, make) => withStorage(t, make, async (h, s) => {
    const store = s.store<number>('batch');
    await h.settle(store.batch([{ op: 'put', key: ['x', 1], value: 1 }, { op: 'put', key: ['x', 2], value: 2 }]));
    const ops = [
      { op: 'delete' as const, key: ['x', 1] },
      { op: 'put' as const, key: ['x', 2], value: 20 },
      { op: 'put' as const, key: ['x', 3], value: 30 },
    ];
    const written = store.batch(ops);
    const seen = [store.get(['x', 1]), store.get(['x', 2]), store.get(['x', 3])];
    t.ok(JSON.stringify(seen) === JSON.stringify([1, 2, undefined]) || JSON.stringify(seen) === JSON.stringify([undefined, 20, 30]), `all or nothing visible while pending: ${JSON.stringify(seen)}`);
    await h.settle(written);
    t.same([...store.range()].map((e) => [e.key, e.value]), [[['x', 2], 20], [['x', 3], 30]], 'all applied after it resolves');
    await t.rejects(h.settle(store.batch([{ op: 'put', key: ['x', 4], value: 4 }, { op: 'put', key: [1.5], value: 0 }])), KeyError, 'a bad key rejects the batch');
    t.equal(store.get(['x', 4]), undefined, 'and nothing of it is applied');
  }),

  'writes are visible once their promise resolves; flushed waits for all': (t, make) => withStorage(t, make, async (h, s) => {
    const store = s.store<number>('visible');
    const writes = [...Array(50).keys()].map((i) => store.put(['w', i], i));
    await h.settle(Promise.all(writes));
    t.equal([...store.range()].length, 50, 'every awaited write is visible');
    void store.put(['late'], 1);
    await h.settle(s.flushed());
    t.equal(store.get(['late']), 1, 'flushed covers writes not awaited');
  }),

  'stores are separate': (t, make) => withStorage(t, make, async (h, s) => {
    const a = s.store<string>('a');
    const b = s.store<string>('b');
    await h.settle(Promise.all([a.put(['k'], 'in a'), b.put(['k'], 'in b')]));
    t.equal(a.get(['k']), 'in a');
    t.equal(b.get(['k']), 'in b');
    t.equal(s.store<string>('a'), a, 'the same name gives the same store');
  }),

  'reopen after close keeps data': async (t, make) => {
    const h = await make();
    const s1 = await h.open('persist');
    await h.settle(s1.store<number>('one').put(['k', 1], 1));
    await h.settle(s1.store<string>('two').put(['k'], 'x'));
    await h.settle(s1.close());
    const s2 = await h.open('persist');
    t.equal(s2.store<number>('one').get(['k', 1]), 1);
    t.equal(s2.store<string>('two').get(['k']), 'x');
    const other = await h.open('other');
    t.equal(other.store<number>('one').get(['k', 1]), undefined, 'another environment is separate');
    await h.settle(other.close());
    await h.settle(s2.close());
    await h.cleanup?.();
  },

  'malformed keys are rejected with KeyError': (t, make) => withStorage(t, make, async (h, s) => {
    const store = s.store<number>('bad');
    const bad: unknown[] = [[], [1.5], [NaN], [Infinity], [2 ** 53], [-0], [true], [null], [{}], [undefined], ['a\u0001'], ['\n'], ['\ud800'], ['x\udc00y'], Array(17).fill(1), ['x'.repeat(1100)], 'notatuple'];
    for (const b of bad) {
      const key = b as Key;
      const name = JSON.stringify(b) ?? String(b);
      t.throws(() => store.get(key), KeyError, `get ${name}`);
      await t.rejects(h.settle(store.put(key, 1)), KeyError, `put ${name}`);
      await t.rejects(h.settle(store.delete(key)), KeyError, `delete ${name}`);
      t.throws(() => [...store.range({ start: key })], KeyError, `range start ${name}`);
    }
    await h.settle(store.put(['ok', 'x'.repeat(1000)], 1));
    t.equal(store.get(['ok', 'x'.repeat(1000)]), 1, 'a long but valid key works');
  }),
};

export function storageCompliance(t: Test, make: MakeStorage): void {
  for (const [name, run] of Object.entries(storageCases)) t.test(name, (t) => run(t, make));
}
