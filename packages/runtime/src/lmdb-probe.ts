/**
 * `node lmdb-probe.js DIR`: opens the LMDB environment in DIR read-only and reads every value of
 * every named database, then exits 0. Run as a child process by lmdb-file.ts when a data file is
 * shorter than its meta page says: if a page is missing, this process dies (SIGBUS), not the node.
 */
import { open, type Key } from 'lmdb';

const dir = process.argv[2];
if (dir === undefined) {
  process.stderr.write('usage: lmdb-probe DIR\n');
  process.exit(2);
}
const root = open({ path: dir, readOnly: true, compression: false, maxDbs: 64 });
let bytes = 0;
// Names first: opening a database while a cursor of the main database is still open resets the
// read transaction under it (lmdb: MDB_BAD_TXN, or a crash), which would fail a sound file.
const names = [...root.getKeys()].filter((k): k is string => typeof k === 'string');
for (const name of names) {
  let db;
  try {
    db = root.openDB<Buffer, Key>({ name, encoding: 'binary' });
  } catch {
    continue; // a plain key of the main database, not a named one
  }
  for (const { value } of db.getRange({})) bytes += value.length;
}
await root.close();
process.stdout.write(`${bytes}\n`);
