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
 */
import { open, type Database, type Key as LmdbKey, type RootDatabase } from 'lmdb';
import { checkKey, type BatchOp, type Entry, type Key, type KeyPart, type RangeOptions, type Storage, type Store } from './storage.js';

class LmdbStore<V> implements Store<V> {
  constructor(private readonly db: Database<V, LmdbKey>) {}

  get(key: Key): V | undefined {
    checkKey(key);
    return this.db.get(key as LmdbKey);
  }

  *range(opts: RangeOptions = {}): Iterable<Entry<V>> {
    if (opts.start) checkKey(opts.start);
    if (opts.end) checkKey(opts.end);
    const range = this.db.getRange({
      ...(opts.start ? { start: opts.start as LmdbKey } : {}),
      ...(opts.end ? { end: opts.end as LmdbKey } : {}),
      ...(opts.limit !== undefined ? { limit: opts.limit } : {}),
      reverse: opts.reverse ?? false,
    });
    // lmdb's key encoding gives a one-part tuple the same bytes as its part, so it reads
    // single-part keys back unwrapped (`7`, not `[7]`): wrap them again.
    for (const { key, value } of range) yield { key: Array.isArray(key) ? (key as Key) : [key as KeyPart], value };
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
  const root: RootDatabase = open({ path, compression: false, maxDbs: 64 });
  const stores = new Map<string, LmdbStore<unknown>>();
  return {
    store<V>(name: string): Store<V> {
      let store = stores.get(name);
      if (!store) {
        store = new LmdbStore<unknown>(root.openDB<unknown, LmdbKey>({ name }));
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
