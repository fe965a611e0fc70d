// The checks lmdb-file.ts makes before LMDB maps a data file, on the path that needs the
// read-everything probe: a file shorter than the last page its newest meta page names, with the
// tree roots inside it. Damaged: the probe dies and the open is refused, the file untouched.
// Only an unwritten tail: the probe reads everything and the open goes on.
import t from 'tap';
import { mkdtempSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { open } from 'lmdb';
import { openLmdbStorage, StorageOpenError } from '@shoal/runtime';

const pageBytes = 4096; // lmdb's default on Linux x86-64
const keysPerTxn = 500;
const txns = 20;

/**
 * An environment with one named store of txns × keysPerTxn values (~1.4 MB), closed. The last
 * transaction rewrites one value: its new pages come from LMDB's free list, so the newest roots
 * lie well below the highest pages, which older leaves still use.
 */
async function build(dir: string): Promise<void> {
  const root = open({ path: dir, compression: false, maxDbs: 64 });
  const db = root.openDB<string, [string, number]>({ name: 'data' });
  for (let b = 0; b < txns; b++) {
    for (let i = 0; i < keysPerTxn; i++) void db.put(['k', b * 1000 + i], 'x'.repeat(100));
    await db.committed;
  }
  await db.put(['k', 7], 'x'.repeat(100));
  await root.close();
}

/** The newer of the two meta pages: its byte offset, last page in use and tree roots (lmdb-file.ts reads the same fields). */
function newestMeta(file: string): { offset: number; lastPage: bigint; roots: bigint[] } {
  const buf = readFileSync(file);
  const at = (off: number) => {
    const dbs = off + 24 + 0x18;
    return { offset: dbs + 96, lastPage: buf.readBigUInt64LE(dbs + 96), txn: buf.readBigUInt64LE(dbs + 104), roots: [buf.readBigUInt64LE(dbs + 40), buf.readBigUInt64LE(dbs + 88)] };
  };
  const a = at(0);
  const b = at(pageBytes);
  return a.txn > b.txn ? a : b;
}

t.test('a file cut short with its roots still inside: the probe dies, the open is refused, the file is left as it is', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'shoal-lmdb-file-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  await build(dir);
  const file = path.join(dir, 'data.mdb');
  const meta = newestMeta(file);
  const highestRoot = meta.roots.filter((r) => r !== 0xffff_ffff_ffff_ffffn).reduce((a, b) => (a > b ? a : b));
  // Keep every root, lose the pages after the highest one (leaves written after it).
  const keepPages = Number(highestRoot) + 1;
  t.ok(BigInt(keepPages) <= meta.lastPage, 'pages after the highest root exist to cut');
  truncateSync(file, keepPages * pageBytes);
  const before = readFileSync(file);
  await t.rejects(openLmdbStorage(dir), new StorageOpenError(`storage file ${file} is damaged or truncated (${keepPages * pageBytes} bytes; reading it kills LMDB with SIGBUS); restore it from a backup, or move the directory aside to start with an empty one`));
  t.same(readFileSync(file), before, 'the damaged file is not written');
});

t.test('a file whose meta names pages past its end that no tree uses: the probe reads everything and the open goes on', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'shoal-lmdb-file-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  await build(dir);
  const file = path.join(dir, 'data.mdb');
  const meta = newestMeta(file);
  const size = statSync(file).size;
  t.equal(BigInt(size), (meta.lastPage + 1n) * BigInt(pageBytes), 'lmdb wrote every page up to the last one');
  // As if the last transaction took 64 more pages and freed them again without writing them
  // (LMDB's loose pages): the meta's last page moves on, the file does not.
  const buf = readFileSync(file);
  buf.writeBigUInt64LE(meta.lastPage + 64n, meta.offset);
  writeFileSync(file, buf);
  const storage = await openLmdbStorage(dir);
  t.teardown(() => storage.close());
  const store = storage.store<string>('data');
  t.equal(store.get(['k', 0]), 'x'.repeat(100), 'the first record reads');
  t.equal(store.get(['k', (txns - 1) * 1000 + keysPerTxn - 1]), 'x'.repeat(100), 'the last record reads');
  t.equal([...store.range({ start: ['k'], end: ['l'] })].length, txns * keysPerTxn, 'every record is there');
});
