/**
 * For tests of damaged storage: bytes written under a key of an LMDB environment as a bad disk
 * would leave them (below lmdb's own encoding, so they need not decode), and read back raw. The
 * environment must not be open in this process's Storage at the time.
 */
import { open, type Key } from 'lmdb';

/** A key as lmdb reads it back (a one-part tuple comes back unwrapped: `'identity'`, not `['identity']`). */
export type RawKey = Key;

/** Writes `bytes` as the stored value of the first key of `store` that `which` accepts (or that key itself); returns the key. */
export async function damageStoredValue(dir: string, store: string, which: Key | ((key: Key) => boolean), bytes: Uint8Array): Promise<Key> {
  const root = open({ path: dir, compression: false, maxDbs: 64 });
  try {
    const raw = root.openDB<Buffer, Key>({ name: store, encoding: 'binary' });
    let target: Key | undefined = typeof which === 'function' ? undefined : which;
    if (typeof which === 'function') {
      for (const key of raw.getKeys({})) {
        if (which(key)) {
          target = key;
          break;
        }
      }
    }
    if (target === undefined) throw new Error(`no such key in ${store}`);
    await raw.put(target, Buffer.from(bytes));
    return target;
  } finally {
    await root.close();
  }
}

/** The stored bytes of `key` in `store`, undecoded (undefined if absent). */
export function storedBytes(dir: string, store: string, key: Key): Buffer | undefined {
  const root = open({ path: dir, compression: false, maxDbs: 64, readOnly: true });
  try {
    return root.openDB<Buffer, Key>({ name: store, encoding: 'binary' }).getBinary(key);
  } finally {
    void root.close();
  }
}
