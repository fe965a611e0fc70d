// The anti-entropy tree is rebuilt from storage once it is `treeExpiryMs` old (kv-vnode.ts
// `backgroundStep`): a rebuild notices storage that changed under the tree (here: records put
// straight into LMDB, as a restored file or a bug would), replaces the tree, and says it drifted;
// writes made while the rebuild scans are in the rebuilt tree; a rebuild that finds nothing
// different replaces the tree quietly.
import t, { type Test } from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { record } from '@shoal/crdt';
import { memoryLogger, nodeClock, openLmdbStorage, type Clock, type Storage } from '@shoal/runtime';
import { BucketRegistry, jsonRecord, skeyOf, type VnodeCommand } from '../src/index.js';
import { HashTree, keyHash } from '../src/hashtree.js';
import { KvVnode, type KvVnodeEnv } from '../src/kv-vnode.js';

const p = 5;
const expiryMs = 60_000;

/** The node clock with a wall clock the test moves forward. */
function movableClock(): Clock & { advance(ms: number): void } {
  const base = nodeClock();
  let offsetMs = 0;
  return { ...base, monoMs: () => base.monoMs() + offsetMs, wallMs: () => base.wallMs() + offsetMs, advance: (ms) => void (offsetMs += ms) };
}

function envOf(storage: Storage, clock: Clock, log: ReturnType<typeof memoryLogger>): KvVnodeEnv {
  return {
    self: 'n1',
    data: storage.store<unknown>('ring.data'),
    storage,
    buckets: new BucketRegistry({ generic: true }),
    clock,
    log,
    hooks: {} as KvVnodeEnv['hooks'],
    incarnation: 1,
    writerBase: 'n1',
    buildRecordsPerStep: 3,
    treeExpiryMs: expiryMs,
    clockSkewMaxMs: 1000,
    replicate: () => Promise.resolve({ ok: true, acks: 2 }),
  };
}

function ask(vn: KvVnode, cmd: VnodeCommand): Promise<unknown> {
  return new Promise((resolve) => vn.handleCommand(cmd, resolve));
}

/** Deadlines are on the vnode's clock, which the tests move. */
let clockNow: () => number = Date.now;

const write = (vn: KvVnode, key: string, value: unknown): Promise<unknown> =>
  ask(vn, { c: 'write', bucket: 'bench', key, op: { kind: 'update', ops: { value: { set: value } } }, w: 2, n: 3, timeoutMs: 5_000, deadline: clockNow() + 5_000 });

/** The tree's segment sums, as an exchange sees them. */
async function segments(vn: KvVnode): Promise<number[]> {
  return ((await ask(vn, { c: 'aae-tree' })) as { segments: number[] }).segments;
}

/** The segment sums of a tree made from what storage holds now. */
function fromStorage(storage: Storage): number[] {
  const tree = new HashTree();
  for (const { key, value } of storage.store<unknown>('ring.data').range({ start: [p, ''], end: [p + 1] })) {
    if (typeof key[1] === 'string' && typeof key[2] === 'string') tree.set(skeyOf(key[1], key[2]), keyHash(skeyOf(key[1], key[2]), value as Uint8Array));
  }
  return Array.from(tree.segments);
}

/** Steps until the vnode has no background work left. */
function stepUntilIdle(vn: KvVnode): number {
  let steps = 0;
  while (vn.wantsBackgroundStep) {
    vn.backgroundStep();
    if (++steps > 1_000) throw new Error('the background work never ended');
  }
  return steps;
}

/** A record's bytes as a coordinator elsewhere would have made them. */
function recordBytes(value: unknown, wallMs: number): Uint8Array {
  return record.encode(record.applyUpdate(record.empty(jsonRecord), { value: { set: value } } as never, { stamp: { wallMs, counter: 0, node: 'n9/1.1' } }).record);
}

/** A vnode of partition `p` on fresh LMDB storage, with a clock the test moves; removed after the test. */
async function started(t: Test): Promise<{ storage: Storage; clock: ReturnType<typeof movableClock>; log: ReturnType<typeof memoryLogger>; vn: KvVnode }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'shoal-tree-expiry-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const storage = await openLmdbStorage(dir);
  t.teardown(() => storage.close());
  const clock = movableClock();
  clockNow = () => clock.wallMs();
  const log = memoryLogger(clock);
  const vn = new KvVnode(p, envOf(storage, clock, log));
  await vn.ready;
  return { storage, clock, log, vn };
}

t.test('a rebuild finds storage that changed under the tree, keeps the writes made meanwhile, and replaces the tree', async (t) => {
  const { storage, clock, log, vn } = await started(t);

  for (let i = 0; i < 10; i++) t.match(await write(vn, `k${i}`, i), { ok: true });
  t.ok(stepUntilIdle(vn) >= 4, 'the first build scans in bounded steps (3 records each)');
  t.equal(vn.recordsCount, 10);
  t.same(await segments(vn), fromStorage(storage), 'the built tree is what storage holds');
  t.notOk(vn.wantsBackgroundStep, 'a fresh tree wants no rebuild');

  // Storage changes under the tree: a record it never saw, another replaced.
  await storage.store<unknown>('ring.data').put([p, 'bench', 'ghost'], recordBytes('ghost', clock.wallMs()));
  await storage.store<unknown>('ring.data').put([p, 'bench', 'k3'], recordBytes('changed', clock.wallMs() + 1));
  t.not(JSON.stringify(await segments(vn)), JSON.stringify(fromStorage(storage)), 'the tree no longer matches storage');

  t.equal(vn.treeLifetimeMs, expiryMs * (1 + 5 / 32), "the tree's lifetime: treeExpiryMs, stretched by partition so that a node's vnodes do not rebuild at once");
  clock.advance(vn.treeLifetimeMs - 5_000);
  t.notOk(vn.wantsBackgroundStep, 'not before the tree is that old');
  clock.advance(5_000);
  t.ok(vn.wantsBackgroundStep, 'then a rebuild is due');
  vn.backgroundStep();
  t.equal(vn.recordsCount, 10, 'while the rebuild scans, exchanges still see the live tree');
  t.match(await write(vn, 'during', 'x'), { ok: true }, 'a write while the rebuild runs');
  t.equal(vn.recordsCount, 11, 'goes into the live tree');
  stepUntilIdle(vn);

  t.equal(vn.recordsCount, 12, 'the rebuilt tree holds the ghost and the write made during the rebuild');
  t.same(await segments(vn), fromStorage(storage), 'and is what storage holds');
  t.equal(vn.treeDrifts, 1, 'the drift is counted');
  t.ok(log.lines.some((l) => l.msg === 'anti-entropy tree had drifted from storage; replaced by the rebuilt one' && l.level === 'warn'), 'and logged');

  clock.advance(vn.treeLifetimeMs);
  stepUntilIdle(vn);
  t.equal(vn.treeDrifts, 1, 'a rebuild that finds nothing different is not a drift');
  t.ok(log.lines.some((l) => l.msg === 'anti-entropy tree rebuilt'), 'it is logged at debug');
  t.same(await segments(vn), fromStorage(storage));
});

t.test('a tombstone whose reaping clock an absorbed live copy restarted keeps it through a rebuild', async (t) => {
  const { clock, vn } = await started(t);
  const live = recordBytes('before the delete', clock.wallMs() - 10_000);
  for (let i = 0; i < 6; i++) await write(vn, `other${i}`, i); // a rebuild takes more than one step
  t.match(await write(vn, 'gone', 1), { ok: true });
  t.match(await ask(vn, { c: 'write', bucket: 'bench', key: 'gone', op: { kind: 'delete' }, w: 2, n: 3, timeoutMs: 5_000, deadline: clockNow() + 5_000 }), { ok: true });
  stepUntilIdle(vn);
  const deletedAt = vn.oldTombstones(Number.MAX_SAFE_INTEGER, 10);
  t.equal(deletedAt.length, 1, 'one tombstone');

  clock.advance(30_000);
  t.match(await ask(vn, { c: 'merge', bucket: 'bench', key: 'gone', bytes: live, deadline: clockNow() + 5_000 }), { ok: true }, 'a pre-delete copy arrives and is absorbed');
  const restarted = clock.wallMs() - 1_000;
  t.same(vn.oldTombstones(restarted, 10), [], 'its reaping clock restarted');

  clock.advance(vn.treeLifetimeMs);
  vn.backgroundStep();
  t.same(vn.oldTombstones(Number.MAX_SAFE_INTEGER, 10), [], 'no reaping while a rebuild scans (a reap\'s delete could be scanned back in)');
  stepUntilIdle(vn);
  t.same(vn.oldTombstones(restarted, 10), [], 'still restarted after the tree was rebuilt');
  t.equal(vn.oldTombstones(Number.MAX_SAFE_INTEGER, 10).length, 1, 'and the tombstone is still held');
});
