// A damaged record in a partition that moves away (on real LMDB, damaged under lmdb's own
// encoding as a bad disk would): the handoff skips it (logged, counted) and carries the rest, and
// dropping the partition deletes it with everything else, so the partition could come back.
import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { open, type Key as LmdbKey } from 'lmdb';
import { memoryLogger, nodeClock, openLmdbStorage, type Key, type Storage } from '@shoal/runtime';
import { KvVnode, type KvVnodeEnv } from '../src/kv-vnode.js';

const p = 5;
const store = 'ring.data';

function envOf(storage: Storage, log: ReturnType<typeof memoryLogger>): KvVnodeEnv {
  const unused = (): never => {
    throw new Error('not used by handoff and drop');
  };
  return {
    self: 'n1',
    data: storage.store<unknown>(store),
    storage,
    buckets: { tryResolve: unused, resolve: unused } as unknown as KvVnodeEnv['buckets'],
    clock: nodeClock(),
    log,
    hooks: {} as KvVnodeEnv['hooks'],
    incarnation: 1,
    writerBase: 'n1',
    buildRecordsPerStep: 100,
    clockSkewMaxMs: 1000,
    replicate: unused,
  };
}

t.test('handoff skips a damaged record, drop deletes it with the partition', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'shoal-vnode-damage-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const keys = ['a', 'b', 'c', 'd'];
  let storage = await openLmdbStorage(dir);
  for (const k of keys) await storage.store<unknown>(store).put([p, 'vms', k], new Uint8Array([1, 2, 3]));
  await storage.store<unknown>(store).put([p + 1, 'vms', 'other'], new Uint8Array([9])); // the next partition: untouched
  await storage.close();

  // 0xc1 is a byte msgpack never uses: the value of `b` no longer decodes.
  const raw = open({ path: dir, compression: false, maxDbs: 64 });
  await raw.openDB<Buffer, LmdbKey>({ name: store, encoding: 'binary' }).put([p, 'vms', 'b'], Buffer.from([0xc1, 0xc1]));
  await raw.close();

  storage = await openLmdbStorage(dir);
  t.teardown(() => storage.close());
  const log = memoryLogger(nodeClock());
  const vn = new KvVnode(p, envOf(storage, log));
  await vn.ready;

  const { items, next } = vn.handoffBatch(null, 100);
  t.same(items.map(([, k]) => k), ['a', 'c', 'd'], 'every sound record is handed off');
  t.equal(next, null, 'the batch reached the end of the partition');
  t.equal(vn.damagedSeen, 1, 'the damaged record is counted');
  t.ok(log.lines.some((l) => l.msg === 'damaged record' && JSON.stringify(l.fields['key']) === JSON.stringify([p, 'vms', 'b'])), 'and logged with its key');

  await vn.handoffFinished(true);
  t.ok(vn.isDropped, 'the partition is dropped');
  const left: Key[] = [];
  for (const { key } of storage.store<unknown>(store).range({ start: [p], end: [p + 1], onDamaged: (err) => left.push(err.key) })) left.push(key);
  t.same(left.filter((k) => k.length === 3), [], 'no record of the partition is left, the damaged one included');
  t.ok(log.lines.some((l) => l.msg === 'dropping a damaged record with its partition'), 'the deletion of the damaged record is logged');
  t.same(storage.store<unknown>(store).get([p + 1, 'vms', 'other']), new Uint8Array([9]), 'the next partition is untouched');
});
