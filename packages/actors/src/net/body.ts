/**
 * Message bodies on the wire. A message sent to a remote actor must be plain data — objects,
 * arrays, strings, finite or integer numbers, booleans, null, Uint8Array — possibly holding
 * ActorRefs (a `sender` field, a reply-to). Refs travel as `{ "$shoal.ref": { node, path } }`
 * (the tag of remote.ts) and come back bound to the receiving system, so a reply goes back out
 * through that system's router.
 *
 * `WireBodies.toWire` runs inside `dispatch` (router.ts), so a message that cannot cross the wire (a function, a
 * Map, a Date, a cycle) fails there, synchronously, with `UnserializableMessageError`, instead
 * of vanishing later in a batch — and so does a message the receiver's scanner would refuse (a
 * string over 64 KiB, a lone surrogate, a `__proto__` field), which would otherwise cost the
 * whole frame and the link. Its result never holds `undefined` (object fields set to it are
 * left out, array elements become null), which lets the codec pack it without msgpackr's slower
 * `skipValues` path.
 */
import { Buffer } from 'node:buffer';
import type { WireLimits } from '@shoal/wire';
import { isWellFormedString as wellFormed } from '../names.js';
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
 * What the receiver's scanner (packages/wire/src/scan.ts) enforces on a body that one message
 * can check alone: the codec's limits for `actor.sends`. (`elementsMax` bounds a whole frame:
 * the router adds up `elements`; `depthMax` is covered by `bodyDepthMax`.)
 */
export type BodyLimits = Pick<WireLimits, 'stringBytesMax' | 'binBytesMax' | 'arrayLengthMax' | 'mapSizeMax'>;


/** Keys the scanner refuses (msgpackr would rename `__proto__`; the others invite pollution). */
function forbiddenKey(k: string): boolean {
  return (k.length === 9 || k.length === 11) && (k === '__proto__' || k === 'prototype' || k === 'constructor');
}

/** UTF-8 bytes of `s` over `max` (bytes are counted only when the length cannot decide). */
function stringTooLong(s: string, max: number): boolean {
  return s.length * 3 > max && (s.length > max || Buffer.byteLength(s, 'utf8') > max);
}

/**
 * Turns messages into wire bodies (`toWire`) and proves, on the way, that the receiver's
 * scanner will accept them: the walk checks every value the scanner checks (string, bin, array
 * and map sizes, UTF-8 — a lone surrogate would be written as invalid UTF-8 or silently as
 * U+FFFD —, forbidden keys, finite numbers, depth) and counts the values, so the router can
 * leave the scan of its own frames out (router.ts, `checkedElementsMax`).
 */
export class WireBodies {
  /** Values of the body `toWire` returned last, counted as the scanner counts them. */
  elements = 0;

  constructor(private readonly limits: BodyLimits) {}

  /** The wire form of a message body; throws UnserializableMessageError if it cannot cross. */
  toWire(msg: unknown): unknown {
    this.elements = 0;
    if (this.ready(msg, 0)) return msg;
    const body = walk(msg, '', 0, this.limits);
    this.elements = 0;
    // `walk` rewrote what needed it and threw for what cannot cross, so this holds; checked
    // anyway, because a body that fails here would fail the receiver's scan.
    if (!this.ready(body, 0)) fail('', 'outside the wire limits');
    return body;
  }

  /**
   * True when `value` can go on the wire as it is: plain data within the limits, no ref, no
   * `undefined`. The fast path: no path strings, no allocation; anything else takes `walk`,
   * which rewrites or throws with the path of the culprit.
   */
  private ready(value: unknown, depth: number): boolean {
    this.elements++;
    switch (typeof value) {
      case 'string':
        return !stringTooLong(value, this.limits.stringBytesMax) && wellFormed(value);
      case 'boolean':
        return true;
      case 'number':
        return Number.isFinite(value);
      case 'object':
        break;
      default:
        return false;
    }
    if (value === null) return true;
    if (depth >= bodyDepthMax) return false;
    if (Array.isArray(value)) {
      if (value.length > this.limits.arrayLengthMax) return false;
      for (let i = 0; i < value.length; i++) if (!this.ready(value[i], depth + 1)) return false;
      return true;
    }
    if (value instanceof Uint8Array) return value.length <= this.limits.binBytesMax;
    const proto = Object.getPrototypeOf(value) as unknown;
    if (proto !== Object.prototype && proto !== null) return false;
    const obj = value as Record<string, unknown>;
    let size = 0;
    for (const k in obj) {
      this.elements++;
      if (++size > this.limits.mapSizeMax || forbiddenKey(k) || stringTooLong(k, this.limits.stringBytesMax) || !wellFormed(k)) return false;
      if (!this.ready(obj[k], depth + 1)) return false;
    }
    return true;
  }
}

function checkString(s: string, path: string, limits: BodyLimits, what: string): void {
  if (stringTooLong(s, limits.stringBytesMax)) fail(path, `${what} longer than ${limits.stringBytesMax} bytes (the wire's stringBytesMax)`);
  if (!wellFormed(s)) fail(path, `${what} with a lone surrogate (not valid UTF-8)`);
}

/**
 * Copy-on-write: returns `value` itself when nothing in it needs rewriting, and a copy of only
 * the changed branches otherwise (refs tagged, `undefined` fields left out). Throws with the
 * path of the first value that cannot cross.
 */
function walk(value: unknown, path: string, depth: number, limits: BodyLimits): unknown {
  switch (typeof value) {
    case 'string':
      checkString(value, path, limits, 'a string');
      return value;
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
  if (value instanceof Uint8Array) {
    if (value.length > limits.binBytesMax) fail(path, `a Uint8Array longer than ${limits.binBytesMax} bytes (the wire's binBytesMax)`);
    return value;
  }
  if (Array.isArray(value)) return walkArray(value, path, depth, limits);
  const proto = Object.getPrototypeOf(value) as unknown;
  if (proto !== Object.prototype && proto !== null) {
    const name = (value as { constructor?: { name?: string } }).constructor?.name ?? 'an object with a prototype';
    fail(path, `a ${name}`);
  }
  return walkObject(value as Record<string, unknown>, path, depth, limits);
}

function walkArray(value: unknown[], path: string, depth: number, limits: BodyLimits): unknown[] {
  if (value.length > limits.arrayLengthMax) fail(path, `an array longer than ${limits.arrayLengthMax} (the wire's arrayLengthMax)`);
  let out: unknown[] | undefined;
  for (let i = 0; i < value.length; i++) {
    const v = value[i];
    const w = walk(v, path + '[' + i + ']', depth + 1, limits);
    if (w !== v && out === undefined) out = value.slice(0, i);
    if (out !== undefined) out.push(w);
  }
  return out ?? value;
}

function walkObject(value: Record<string, unknown>, path: string, depth: number, limits: BodyLimits): Record<string, unknown> {
  let out: Record<string, unknown> | undefined;
  const keys = Object.keys(value);
  if (keys.length > limits.mapSizeMax) fail(path, `an object with more than ${limits.mapSizeMax} fields (the wire's mapSizeMax)`);
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i] as string;
    if (forbiddenKey(k)) fail(path, `an object with a field named ${k}`);
    checkString(k, path, limits, 'a field name');
    const v = value[k];
    // Optional fields left undefined are simply absent on the other side (and in the copy).
    const w = v === undefined ? undefined : walk(v, path + '.' + k, depth + 1, limits);
    if ((w !== v || w === undefined) && out === undefined) {
      out = {};
      for (let j = 0; j < i; j++) out[keys[j] as string] = value[keys[j] as string];
    }
    if (out !== undefined && w !== undefined) out[k] = w;
  }
  return out ?? value;
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
    for (let i = 0; i < value.length; i++) {
      const v: unknown = value[i];
      // Only containers can hold a ref; scalars are neither visited nor written back.
      if (typeof v === 'object' && v !== null) value[i] = bindRefs(v, system, depth + 1);
    }
    return value;
  }
  const obj = value as Record<string, unknown>;
  const tagged = obj[refTag];
  if (tagged !== undefined) {
    for (const _ in obj) if (_ !== refTag) return obj; // Not a ref: a tag with company.
    return refFromJSON(system, tagged);
  }
  for (const k in obj) {
    const v = obj[k];
    if (typeof v === 'object' && v !== null) obj[k] = bindRefs(v, system, depth + 1);
  }
  return obj;
}
