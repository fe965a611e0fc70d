// A damaged record in a partition that moves away (on real LMDB, damaged under lmdb's own
// encoding as a bad disk would): the handoff skips it (logged, counted) and carries the rest, and
// dropping the partition deletes it with everything else, so the partition could come back.
import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { memoryLogger, nodeClock, openLmdbStorage, type Key, type Storage } from '@shoal/runtime';
import { damageStoredValue } from '@shoal/runtime/compliance';
import { KvVnode, type KvVnodeEnv } from '../src/kv-vnode.js';

const p = 5;
const store = 'ring.data';
/** 0xc1 is a byte msgpack never uses: a value of these bytes does not decode. */
const bad = new Uint8Array([0xc1, 0xc1]);

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

  await damageStoredValue(dir, store, [p, 'vms', 'b'], bad);

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

t.test('damaged bookkeeping (hints, writer epoch): the partition starts without it, with a writer epoch never used before', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'shoal-vnode-damage-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  let storage = await openLmdbStorage(dir);
  let log = memoryLogger(nodeClock());
  const first = new KvVnode(p, envOf(storage, log));
  await first.ready;
  const before = storage.store<unknown>(store).get([p, 2]) as { e: number };
  await storage.store<unknown>(store).put([p, 1], { hints: ['n2'], session: null });
  await storage.close();

  for (const key of [[p, 1], [p, 2]]) await damageStoredValue(dir, store, key, bad);

  storage = await openLmdbStorage(dir);
  t.teardown(() => storage.close());
  log = memoryLogger(nodeClock());
  const vn = new KvVnode(p, envOf(storage, log)); // threw DamagedRecordError at every start before
  await vn.ready;
  t.equal(vn.damagedSeen, 2, 'both bookkeeping records are counted');
  t.ok(log.lines.some((l) => l.msg === 'damaged writer epoch: the partition starts without it'), 'the lost epoch is logged');
  t.ok(log.lines.some((l) => l.msg === 'damaged hints and handoff progress: the partition starts without it'), 'the lost hints are logged');
  const epochOf = (writer: string): number => Number(writer.slice(writer.lastIndexOf('.') + 1));
  t.ok(epochOf(vn.writer) > before.e, `a new writer epoch (${vn.writer}, was ${before.e})`);
  t.not(vn.writer, first.writer, 'never the old writer id');
  t.same((storage.store<unknown>(store).get([p, 2]) as { e: number }).e, epochOf(vn.writer), 'the new epoch is stored, readable again');
  t.equal(vn.handoffBatch(null, 10).items.length, 0, 'the partition serves (no records yet)');
});

t.test('a damaged dirty mark of a handoff in progress still names its key: the key stays dirty', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'shoal-vnode-damage-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  let storage = await openLmdbStorage(dir);
  await storage.store<unknown>(store).put([p, 1], { hints: [], session: { targets: ['n2'], cursor: null } });
  await storage.store<unknown>(store).put([p, 0, 'vms', 'a'], 1);
  await storage.store<unknown>(store).put([p, 0, 'vms', 'b'], 1);
  await storage.close();
  await damageStoredValue(dir, store, [p, 0, 'vms', 'a'], bad);
  storage = await openLmdbStorage(dir);
  t.teardown(() => storage.close());
  const vn = new KvVnode(p, envOf(storage, memoryLogger(nodeClock())));
  await vn.ready;
  t.equal(vn.dirtyCount(), 2, 'both marks are loaded, the damaged one by its key');
});
