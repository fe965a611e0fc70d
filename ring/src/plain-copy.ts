/**
 * A deep copy of plain data — null, booleans, numbers, strings, arrays, plain objects and
 * Uint8Arrays — for the write path (coordinator.ts `update`): the operations a caller hands in
 * are copied before they are queued, so a caller that changes or freezes its object afterwards
 * changes nothing that was written. Replaces `structuredClone`, which cost ~5 % of the
 * coordinating node's main thread in the store benchmark (it serializes and deserializes); this
 * walk allocates only the copy. Anything else (functions, Maps, Dates, class instances, cycles
 * — caught by the depth bound) is refused: a write carries plain data only, and the CRDT layer
 * checks the values themselves (crdt/src/plain.ts).
 */

/** Nesting a copied value may have; deeper (or cyclic) values are refused. */
export const plainCopyDepthMax = 64;

export class NotPlainError extends Error {
  override name = 'NotPlainError';
}

export function copyPlain<T>(value: T): T {
  return copy(value, 0) as T;
}

function copy(x: unknown, depth: number): unknown {
  if (x === null || typeof x !== 'object') {
    if (typeof x === 'function' || typeof x === 'symbol' || typeof x === 'bigint') throw new NotPlainError(`a ${typeof x} is not plain data`);
    return x; // string, number, boolean, undefined (left out of objects by the wire)
  }
  if (depth >= plainCopyDepthMax) throw new NotPlainError(`nested deeper than ${plainCopyDepthMax} levels (a cycle?)`);
  if (Array.isArray(x)) {
    const out = new Array<unknown>(x.length);
    for (let i = 0; i < x.length; i++) out[i] = copy(x[i], depth + 1);
    return out;
  }
  if (x instanceof Uint8Array) return Uint8Array.prototype.slice.call(x);
  const proto = Object.getPrototypeOf(x) as unknown;
  if (proto !== Object.prototype && proto !== null) throw new NotPlainError(`a ${(x as { constructor?: { name?: string } }).constructor?.name ?? 'object with a prototype'} is not plain data`);
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(x)) {
    // Defined as an own data property: a key `__proto__` stays a key (the CRDT layer refuses it).
    const v = copy((x as Record<string, unknown>)[k], depth + 1);
    if (k === '__proto__') Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
    else out[k] = v;
  }
  return out;
}
