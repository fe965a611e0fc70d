// A damaged record in a partition that moves away (on real LMDB, damaged under lmdb's own
// encoding as a bad disk would): the handoff skips it (logged, counted) and carries the rest, and
// dropping the partition deletes it with everything else, so the partition could come back.
// A value that decodes but is no record (a number, bytes that are not a record) is the same
// damage: never read as absent, never overwritten by a write or a merge, skipped by every scan.
import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { hlc, record } from '@shoal/crdt';
import { memoryLogger, nodeClock, openLmdbStorage, type Key, type Storage } from '@shoal/runtime';
import { damageStoredValue } from '@shoal/runtime/compliance';
import { BucketRegistry, jsonRecord, skeyOf, type VnodeCommand } from '../src/index.js';
import { KvVnode, type KvVnodeEnv } from '../src/kv-vnode.js';

const p = 5;
const store = 'ring.data';
/** 0xc1 is a byte msgpack never uses: a value of these bytes does not decode. */
const bad = new Uint8Array([0xc1, 0xc1]);

function envOf(storage: Storage, log: ReturnType<typeof memoryLogger>, buckets?: BucketRegistry): KvVnodeEnv {
  const unused = (): never => {
    throw new Error('not used by handoff and drop');
  };
  return {
    self: 'n1',
    data: storage.store<unknown>(store),
    storage,
    // Without buckets, every bucket is unknown: records are handed off and dropped unjudged.
    buckets: buckets ?? ({ tryResolve: () => undefined, resolve: unused } as unknown as KvVnodeEnv['buckets']),
    clock: nodeClock(),
    log,
    hooks: {} as KvVnodeEnv['hooks'],
    incarnation: 1,
    writerBase: 'n1',
    buildRecordsPerStep: 100,
    treeExpiryMs: 7 * 24 * 3_600_000,
    clockSkewMaxMs: 1000,
    replicate: buckets ? () => Promise.resolve({ ok: true, acks: 1 }) : unused,
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

t.test('a stored value that decodes but is no record is damage: refused naming the key, never overwritten, skipped by scans', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'shoal-vnode-damage-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const storage = await openLmdbStorage(dir);
  t.teardown(() => storage.close());
  const data = storage.store<unknown>(store);
  const sound = record.encode(record.applyUpdate(record.empty(jsonRecord), { value: { set: { a: 1 } } }, { stamp: hlc.tick(hlc.hlcZero('n0/5.1'), Date.now()) }).record);
  const notRecords: [string, unknown, RegExp][] = [
    ['b', 42, /\(it holds a number, not a record\)/],
    ['c', new Uint8Array([1, 2, 3]), /\(its bytes are no valid json record \(.*\), not a record\)/],
  ];
  for (const k of ['a', 'd']) await data.put([p, 'vms', k], sound);
  for (const [k, v] of notRecords) await data.put([p, 'vms', k], v);
  const log = memoryLogger(nodeClock());
  const vn = new KvVnode(p, envOf(storage, log, new BucketRegistry({ generic: true })));
  await vn.ready;
  const ask = (cmd: VnodeCommand): Promise<{ ok: boolean; code?: string; message?: string; bytes?: Uint8Array | null; items?: [string, unknown][] }> => new Promise((resolve) => vn.handleCommand(cmd, resolve as (r: unknown) => void));
  const deadline = Date.now() + 60_000;

  for (const [k, , why] of notRecords) {
    const named = new RegExp(`^record \\[${p},"vms","${k}"\\] of store ring\\.data is damaged`);
    const write = await ask({ c: 'write', bucket: 'vms', key: k, op: { kind: 'update', ops: { value: { set: 'new' } } }, w: 1, n: 1, timeoutMs: 1000, deadline });
    t.match(write, { ok: false, code: 'refused' }, `${k}: a write is refused (503), not started from an empty record`);
    t.match(write.message, named, `${k}: the refusal names the record`);
    t.match(write.message, why, `${k}: and says what is wrong with it`);
    t.match(await ask({ c: 'write', bucket: 'vms', key: k, op: { kind: 'delete' }, w: 1, n: 1, timeoutMs: 1000, deadline }), { ok: false, code: 'refused' }, `${k}: so is a delete`);
    t.match(await ask({ c: 'merge', bucket: 'vms', key: k, bytes: sound, deadline }), { ok: false, code: 'refused', message: named }, `${k}: and a merge`);
  }
  t.match(await ask({ c: 'get', bucket: 'vms', key: 'b' }), { ok: false, code: 'refused', message: /record \[5,"vms","b"\] of store ring\.data is damaged/ }, 'a read of a stored number is the damage, not "absent"');
  // A get answers bytes undecoded (the hot path decodes once, in the coordinator, which refuses them: coordinator.test.ts).
  t.same((await ask({ c: 'get', bucket: 'vms', key: 'c' })).bytes, new Uint8Array([1, 2, 3]));

  const fold = await ask({ c: 'fold', bucket: 'vms', after: null, limit: 100, filter: null, values: false });
  t.same(fold.items?.map(([k]) => k), ['a', 'd'], 'a list skips them');
  t.same(vn.handoffBatch(null, 100).items.map(([, k]) => k), ['a', 'd'], 'so does handoff');
  t.same(vn.handoffBatch(null, 2), { items: [['vms', 'a', sound]], next: ['vms', 'c'] }, 'and a batch whose scan stopped at its limit on them goes on after them, not "done"');
  const fetched = (await ask({ c: 'aae-fetch', skeys: ['a', 'b', 'c'].map((k) => skeyOf('vms', k)) })) as unknown as { records: [string, Uint8Array | null][] };
  t.same(fetched.records.map(([, b]) => b !== null), [true, false, false], 'anti-entropy sends neither');
  vn.backgroundStep();
  t.ok(vn.treeIsReady, 'the tree is built');
  t.equal(vn.recordsCount, 2, 'without them');
  t.ok(vn.damagedSeen >= 10, `every meeting is counted (${vn.damagedSeen})`);
  t.ok(log.lines.some((l) => l.msg === 'damaged record' && JSON.stringify(l.fields['key']) === JSON.stringify([p, 'vms', 'c'])), 'and logged with its key');

  await storage.flushed();
  t.equal(data.get([p, 'vms', 'b']), 42, 'the stored number is still there');
  t.same(data.get([p, 'vms', 'c']), new Uint8Array([1, 2, 3]), 'so are the bytes');
});
