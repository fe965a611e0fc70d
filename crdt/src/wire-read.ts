/**
 * Reading decoded wire values (internal). Decoders are written as straight-line code that calls
 * these readers, which throw a private `Reject` on the first problem; `decoding()` turns that —
 * and anything else thrown on hostile input, such as a stack overflow — into a `WireResult`, so
 * no decoder ever throws into its caller.
 */
import { CrdtWireError } from './errors.js';
import type { WireResult } from './errors.js';
import { keyProblem, nodeProblem } from './text.js';

class Reject extends Error {
  constructor(
    readonly path: string,
    readonly reason: string,
  ) {
    super(reason);
  }
}

/** Stops decoding: `path` is where, `reason` what. */
export function reject(path: string, reason: string): never {
  throw new Reject(path, reason);
}

/** Runs a decoder; its result, or the first rejection as a `CrdtWireError`. */
export function decoding<T>(decode: () => T): WireResult<T> {
  try {
    return { ok: true, value: decode() };
  } catch (e) {
    if (e instanceof Reject) return { ok: false, error: new CrdtWireError(e.path, e.reason) };
    return { ok: false, error: new CrdtWireError('', `malformed (${e instanceof Error ? e.name : 'unknown error'})`) };
  }
}

export function readArray(x: unknown, path: string, lengthMax: number): readonly unknown[] {
  if (!Array.isArray(x)) reject(path, 'expected an array');
  if (x.length > lengthMax) reject(path, `array of ${x.length} items is longer than ${lengthMax}`);
  return x as readonly unknown[];
}

export function readInt(x: unknown, path: string, min: number, max: number): number {
  if (typeof x !== 'number' || !Number.isSafeInteger(x)) reject(path, 'expected an integer');
  if (x < min || x > max) reject(path, `integer ${x} is outside [${min}, ${max}]`);
  return x;
}

export function readNode(x: unknown, path: string): string {
  const p = nodeProblem(x);
  if (p !== undefined) reject(path, p);
  return x as string;
}

export function readKey(x: unknown, path: string): string {
  const p = keyProblem(x);
  if (p !== undefined) reject(path, p);
  return x as string;
}
