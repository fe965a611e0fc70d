/**
 * Storage on LMDB (the `lmdb` package): one environment per directory, one named database per
 * store, msgpack values, tuple keys. Writes are batched by lmdb into asynchronous commits. With
 * lmdb's `overlappingSync` (its default on Linux, kept here) a write's promise resolves when its
 * transaction has committed, and the fsync of that transaction runs afterwards in lmdb's write
 * thread, overlapping the next one: an awaited write survives `kill -9` of the process (LMDB
 * reopens at the last committed transaction while the machine's boot id is unchanged), and
 * after an OS crash or power loss LMDB reopens at the last *flushed* transaction, a few
 * milliseconds older. `noSync` would make commits ~30 % cheaper for the store benchmark
 * (bench/README.md) but LMDB documents that a system crash can then corrupt the database; not
 * used. Measured here: async `put` 0.44 M/s, `get` 0.37 M/s.
 *
 * Damage. LMDB maps `data.mdb` into memory and trusts it: a truncated file kills the process
 * with SIGBUS when a page past its end is touched, and a garbage header with SIGSEGV. So before
 * opening, `checkDataFile` (lmdb-file.ts) reads the file's two meta pages and refuses, with a
 * StorageOpenError naming the file, one that is empty, not an LMDB file, or shorter than its
 * last committed transaction needs. It never writes to the file. A value that does not decode
 * is a DamagedRecordError for its key (storage.ts), and stays on disk.
 */
import { open, type Database, type Key as LmdbKey, type RangeOptions as LmdbRangeOptions, type RootDatabase } from 'lmdb';
import { checkDataFile } from './lmdb-file.js';
import { checkKey, DamagedRecordError, StorageOpenError, type BatchOp, type Entry, type Key, type KeyPart, type RangeOptions, type Storage, type Store } from './storage.js';

/** lmdb's key encoding gives a one-part tuple the same bytes as its part, so it reads single-part keys back unwrapped (`7`, not `[7]`): wrap them again. */
function keyOf(key: LmdbKey): Key {
  return Array.isArray(key) ? (key as Key) : [key as KeyPart];
}

function reasonOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

class LmdbStore<V> implements Store<V> {
  constructor(
    private readonly name: string,
    private readonly where: string,
    private readonly db: Database<V, LmdbKey>,
  ) {}

  get(key: Key): V | undefined {
    checkKey(key);
    try {
      return this.db.get(key as LmdbKey);
    } catch (err) {
      // Only a value that is there and does not decode is damage; anything else is lmdb's own error.
      if (this.db.getBinary(key as LmdbKey) === undefined) throw err;
      throw new DamagedRecordError(this.name, key, reasonOf(err), this.where);
    }
  }

  *range(opts: RangeOptions = {}): Iterable<Entry<V>> {
    if (opts.start) checkKey(opts.start);
    if (opts.end) checkKey(opts.end);
    const reverse = opts.reverse ?? false;
    let from: LmdbKey | undefined = opts.start as LmdbKey | undefined;
    let skipFirst = false;
    let left = opts.limit ?? Infinity;
    // One lmdb range per run of decodable values: a value that does not decode ends lmdb's
    // iterator, so the scan finds that entry's key without values and resumes after it.
    for (;;) {
      const bounds: LmdbRangeOptions = { ...(from !== undefined ? { start: from } : {}), ...(opts.end ? { end: opts.end as LmdbKey } : {}), reverse, ...(skipFirst ? { offset: 1 } : {}) };
      let last: LmdbKey | undefined;
      try {
        for (const { key, value } of this.db.getRange({ ...bounds, ...(left !== Infinity ? { limit: left } : {}) })) {
          last = key;
          left--;
          yield { key: keyOf(key), value };
        }
        return;
      } catch (err) {
        const after: LmdbRangeOptions = last === undefined ? bounds : { ...bounds, start: last, offset: 1 };
        let bad: LmdbKey | undefined;
        for (const key of this.db.getKeys({ ...after, limit: 1 })) bad = key;
        if (bad === undefined || this.db.getBinary(bad) === undefined) throw err;
        const damaged = new DamagedRecordError(this.name, keyOf(bad), reasonOf(err), this.where);
        if (!opts.onDamaged) throw damaged;
        opts.onDamaged(damaged);
        from = bad;
        skipFirst = true;
      }
    }
  }

  async put(key: Key, value: V): Promise<void> {
    checkKey(key);
    await this.db.put(key as LmdbKey, value);
  }

  async delete(key: Key): Promise<void> {
    checkKey(key);
    await this.db.remove(key as LmdbKey);
  }

  /** Not `async`: one runs per replica write, and lmdb's own promise is the answer (a bad key is a rejection, as from an async function). */
  batch(ops: readonly BatchOp<V>[]): Promise<void> {
    try {
      for (const op of ops) checkKey(op.key);
    } catch (err) {
      return Promise.reject(err as Error);
    }
    return this.db.batch(() => {
      for (const op of ops) {
        if (op.op === 'put') void this.db.put(op.key as LmdbKey, op.value);
        else void this.db.remove(op.key as LmdbKey);
      }
    }) as Promise<unknown> as Promise<void>;
  }
}

export async function openLmdbStorage(path: string): Promise<Storage> {
  checkDataFile(path);
  let root: RootDatabase;
  try {
    root = open({ path, compression: false, maxDbs: 64 });
  } catch (err) {
    throw new StorageOpenError(`cannot open the storage in ${path} (${reasonOf(err)})`);
  }
  const stores = new Map<string, LmdbStore<unknown>>();
  return {
    store<V>(name: string): Store<V> {
      let store = stores.get(name);
      if (!store) {
        store = new LmdbStore<unknown>(name, path, root.openDB<unknown, LmdbKey>({ name }));
        stores.set(name, store);
      }
      return store as unknown as Store<V>;
    },
    async flushed() {
      await root.flushed;
    },
    async close() {
      await root.flushed;
      await root.close();
    },
  };
}
