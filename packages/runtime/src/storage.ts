/**
 * Storage: ordered key/value stores with atomic batches, as LMDB provides them.
 *
 * Semantics every implementation keeps (the simulator's included):
 * - Keys are tuples of strings and safe integers, ordered element by element: numbers before
 *   strings, numbers by value, strings by UTF-8 bytes, a prefix before its extensions. Strings
 *   may not contain control characters (below U+0020), so every backend orders them alike, nor
 *   lone surrogates (UTF-8 cannot carry them: LMDB would store '\ud800' and '\udbff' as the
 *   same U+FFFD key). Negative zero is refused (LMDB's key encoding turns it into a garbage key
 *   distinct from 0, while JavaScript holds -0 === 0).
 * - Values are anything msgpack can carry (objects, arrays, strings, numbers, booleans, null,
 *   Uint8Array).
 * - A write becomes visible to `get`/`range` when it commits, and is durable once its promise
 *   resolves. A crash of the process loses writes whose promise had not resolved, never one
 *   that had (LMDB's guarantee when writes are awaited: shared/DEPENDENCIES.md); an OS crash
 *   or power loss may also lose the last few milliseconds of resolved writes (lmdb-storage.ts:
 *   the fsync follows the commit), which replication covers.
 * - `batch` applies all its operations atomically: after a crash, all or none.
 * - A stored value that does not decode (damage on disk) is never returned as something else:
 *   `get` throws DamagedRecordError naming the store and key, and so does `range`, unless the
 *   caller passes `onDamaged`, which is told about the entry and the scan goes on past it. A
 *   damaged value is left where it is, for an operator to inspect.
 */

export type KeyPart = string | number;
export type Key = readonly KeyPart[];

export interface Entry<V> {
  key: Key;
  value: V;
}

export interface RangeOptions {
  /** Inclusive lower bound (upper bound when `reverse`). */
  start?: Key;
  /** Exclusive upper bound (lower bound when `reverse`). */
  end?: Key;
  limit?: number;
  reverse?: boolean;
  /** Called for an entry whose value does not decode, which is then skipped (default: range throws DamagedRecordError). */
  onDamaged?: (err: DamagedRecordError) => void;
}

export type BatchOp<V> = { op: 'put'; key: Key; value: V } | { op: 'delete'; key: Key };

export interface Store<V = unknown> {
  get(key: Key): V | undefined;
  range(opts?: RangeOptions): Iterable<Entry<V>>;
  put(key: Key, value: V): Promise<void>;
  delete(key: Key): Promise<void>;
  batch(ops: readonly BatchOp<V>[]): Promise<void>;
}

export interface Storage {
  /** Opens (creating if needed) the named store; the same name gives the same store. */
  store<V = unknown>(name: string): Store<V>;
  /** Resolves once every write issued so far is durable. */
  flushed(): Promise<void>;
  close(): Promise<void>;
}

/** Limits on keys, so that every backend accepts the same keys (LMDB's own cap is 1978 bytes). */
export const keyPartsMax = 16;
export const keyBytesMax = 1024;

export class KeyError extends Error {
  override name = 'KeyError';
}

/** A stored value that cannot be decoded: the bytes on disk are damaged. */
export class DamagedRecordError extends Error {
  override name = 'DamagedRecordError';
  constructor(
    readonly store: string,
    readonly key: Key,
    reason: string,
    where?: string,
  ) {
    super(`record ${JSON.stringify(key)} of store ${store}${where ? ` in ${where}` : ''} is damaged (${reason})`);
  }
}

/** A storage environment that cannot be opened (a damaged or truncated file, a path that is not a directory). */
export class StorageOpenError extends Error {
  override name = 'StorageOpenError';
}

const loneSurrogate = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Throws KeyError with a clear sentence if `key` is not a valid storage key. */
export function checkKey(key: Key): void {
  if (!Array.isArray(key) || key.length === 0 || key.length > keyPartsMax) {
    throw new KeyError(`a storage key is a tuple of 1 to ${keyPartsMax} parts`);
  }
  let bytes = 0;
  for (const part of key) {
    if (typeof part === 'number') {
      if (!Number.isSafeInteger(part)) throw new KeyError(`key part ${part} is not a safe integer`);
      if (Object.is(part, -0)) throw new KeyError('key part -0 (negative zero) is not allowed; use 0');
      bytes += 9;
    } else if (typeof part === 'string') {
      if (/[\u0000-\u001f]/.test(part)) throw new KeyError('key strings may not contain control characters');
      if (loneSurrogate.test(part)) throw new KeyError('key strings may not contain lone surrogates (not valid UTF-16)');
      bytes += Buffer.byteLength(part) + 1;
    } else {
      throw new KeyError(`key part of type ${typeof part} is not a string or an integer`);
    }
  }
  if (bytes > keyBytesMax) throw new KeyError(`key is ${bytes} bytes, over the ${keyBytesMax}-byte limit`);
}

function compareStrings(a: string, b: string): number {
  if (a === b) return 0;
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

/** The key order every Storage implementation follows. */
export function compareKeys(a: Key, b: Key): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a[i] as KeyPart;
    const y = b[i] as KeyPart;
    if (typeof x === 'number' && typeof y === 'number') {
      if (x !== y) return x < y ? -1 : 1;
    } else if (typeof x === 'number') {
      return -1;
    } else if (typeof y === 'number') {
      return 1;
    } else {
      const c = compareStrings(x, y);
      if (c !== 0) return c;
    }
  }
  return a.length - b.length;
}
