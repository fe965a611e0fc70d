/**
 * Message bodies on the wire. A message sent to a remote actor must be plain data — objects,
 * arrays, strings, finite or integer numbers, booleans, null, Uint8Array — possibly holding
 * ActorRefs (a `sender` field, a reply-to). Refs travel as `{ "$shoal.ref": { node, path } }`
 * (the tag of remote.ts) and come back bound to the receiving system, so a reply goes back out
 * through that system's router.
 *
 * `toWireBody` runs inside `dispatch`, so a message that cannot cross the wire (a function, a
 * Map, a Date, a cycle) fails there, synchronously, with `UnserializableMessageError`, instead
 * of vanishing later in a batch.
 */
import { ActorRef as Ref, refFromJSON } from '../ref.js';
import { refTag } from '../remote.js';
import type { ActorSystem } from '../system.js';

export class UnserializableMessageError extends Error {
  override name = 'UnserializableMessageError';
}

/** Deepest nesting of a message body (the wire's own limit is 32 levels including the envelope). */
export const bodyDepthMax = 24;

function fail(path: string, what: string): never {
  throw new UnserializableMessageError(`message${path} is ${what}: remote messages must be plain data (objects, arrays, strings, numbers, booleans, null, Uint8Array, ActorRef)`);
}

/**
 * Copy-on-write: returns `value` itself when nothing in it needs rewriting (the common case of
 * plain data), and a copy of only the changed branches otherwise, so plain messages cost a walk
 * and no allocation.
 */
function walk(value: unknown, path: string, depth: number): unknown {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      if (!Number.isFinite(value)) fail(path, String(value));
      return value;
    case 'undefined':
      return null;
    case 'bigint':
      return fail(path, 'a bigint');
    case 'function':
      return fail(path, 'a function');
    case 'symbol':
      return fail(path, 'a symbol');
    case 'object':
      break;
  }
  if (value === null) return null;
  if (depth >= bodyDepthMax) fail(path, `nested deeper than ${bodyDepthMax} levels (a cycle?)`);
  if (value instanceof Ref) return { [refTag]: value.toJSON() };
  if (value instanceof Uint8Array) return value;
  if (Array.isArray(value)) return walkArray(value, path, depth);
  const proto = Object.getPrototypeOf(value) as unknown;
  if (proto !== Object.prototype && proto !== null) {
    const name = (value as { constructor?: { name?: string } }).constructor?.name ?? 'an object with a prototype';
    fail(path, `a ${name}`);
  }
  return walkObject(value as Record<string, unknown>, path, depth);
}

function walkArray(value: unknown[], path: string, depth: number): unknown[] {
  let out: unknown[] | undefined;
  for (let i = 0; i < value.length; i++) {
    const v = value[i];
    const w = walk(v, path + '[' + i + ']', depth + 1);
    if (w !== v && out === undefined) out = value.slice(0, i);
    if (out !== undefined) out.push(w);
  }
  return out ?? value;
}

function walkObject(value: Record<string, unknown>, path: string, depth: number): Record<string, unknown> {
  let out: Record<string, unknown> | undefined;
  const keys = Object.keys(value);
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i] as string;
    const v = value[k];
    // Optional fields left undefined are simply absent on the other side.
    const w = v === undefined ? undefined : walk(v, path + '.' + k, depth + 1);
    if (w !== v && out === undefined) {
      out = {};
      for (let j = 0; j < i; j++) out[keys[j] as string] = value[keys[j] as string];
    }
    if (out !== undefined && w !== undefined) out[k] = w;
  }
  return out ?? value;
}

/** The wire form of a message body; throws UnserializableMessageError if it is not plain data. */
export function toWireBody(msg: unknown): unknown {
  return walk(msg, '', 0);
}

/**
 * The message a wire body stands for, with refs bound to `system`. The body was just decoded
 * and belongs to nobody else, so tagged refs are replaced in place.
 */
export function fromWireBody(body: unknown, system: ActorSystem): unknown {
  return bindRefs(body, system, 0);
}

function bindRefs(value: unknown, system: ActorSystem, depth: number): unknown {
  if (typeof value !== 'object' || value === null || value instanceof Uint8Array || depth > bodyDepthMax) return value;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = bindRefs(value[i], system, depth + 1);
    return value;
  }
  const obj = value as Record<string, unknown>;
  const tagged = obj[refTag];
  if (tagged !== undefined) {
    for (const _ in obj) if (_ !== refTag) return obj; // Not a ref: a tag with company.
    return refFromJSON(system, tagged);
  }
  for (const k in obj) obj[k] = bindRefs(obj[k], system, depth + 1);
  return obj;
}
