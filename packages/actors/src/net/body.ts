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
import { ActorRef } from '../ref.js';
import { decodeRefs, refTag } from '../remote.js';
import type { ActorSystem } from '../system.js';

export class UnserializableMessageError extends Error {
  override name = 'UnserializableMessageError';
}

/** Deepest nesting of a message body (the wire's own limit is 32 levels including the envelope). */
export const bodyDepthMax = 24;

function fail(path: string, what: string): never {
  throw new UnserializableMessageError(`message${path} is ${what}: remote messages must be plain data (objects, arrays, strings, numbers, booleans, null, Uint8Array, ActorRef)`);
}

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
  if (value instanceof ActorRef) return { [refTag]: value.toJSON() };
  if (value instanceof Uint8Array) return value;
  if (Array.isArray(value)) return value.map((v, i) => walk(v, `${path}[${i}]`, depth + 1));
  const proto = Object.getPrototypeOf(value) as unknown;
  if (proto !== Object.prototype && proto !== null) {
    const name = (value as { constructor?: { name?: string } }).constructor?.name ?? 'an object with a prototype';
    fail(path, `a ${name}`);
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    // Optional fields left undefined are simply absent on the other side.
    if (v === undefined) continue;
    out[k] = walk(v, `${path}.${k}`, depth + 1);
  }
  return out;
}

/** The wire form of a message body; throws UnserializableMessageError if it is not plain data. */
export function toWireBody(msg: unknown): unknown {
  return walk(msg, '', 0);
}

/** The message a wire body stands for, with refs bound to `system`. */
export function fromWireBody(body: unknown, system: ActorSystem): unknown {
  return decodeRefs(body, system);
}
