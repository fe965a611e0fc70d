/**
 * Plain values: what a register (LWW or MV) may hold — JSON without its traps, so that it
 * encodes the same way with msgpackr and JSON and compares by structure.
 *
 * Invariants: numbers are finite; objects are plain (prototype Object or null), with string keys
 * other than `__proto__` (msgpackr renames that key, so it would not round-trip); arrays are
 * dense; strings are well-formed; depth, element count and string bytes are bounded
 * (limits.ts). `plainCompare` is a total order used wherever a merge must pick between two
 * values deterministically (two entries a hostile or buggy peer gave the same dot or stamp).
 */
import { crdtLimits } from './limits.js';
import { keyProblem, stringProblem } from './text.js';

export type Plain = null | boolean | number | string | readonly Plain[] | { readonly [key: string]: Plain };

/** The value checks a register kind can name; `CheckedType` maps each to its TypeScript type. */
export type ValueCheck = 'string' | 'number' | 'integer' | 'boolean' | 'plain';

export type CheckedType<C extends ValueCheck> = C extends 'string'
  ? string
  : C extends 'number' | 'integer'
    ? number
    : C extends 'boolean'
      ? boolean
      : Plain;

/** Why `x` does not pass `check`, or undefined if it does. */
export function valueProblem(x: unknown, check: ValueCheck): string | undefined {
  switch (check) {
    case 'string':
      return typeof x === 'string' ? stringProblem(x, crdtLimits.stringBytesMax) : 'value is not a string';
    case 'number':
      return typeof x === 'number' && Number.isFinite(x) ? undefined : 'value is not a finite number';
    case 'integer':
      return Number.isSafeInteger(x) ? undefined : 'value is not a safe integer';
    case 'boolean':
      return typeof x === 'boolean' ? undefined : 'value is not a boolean';
    case 'plain':
      return treeProblem(x, 0, { left: crdtLimits.valueElementsMax });
  }
}

function treeProblem(x: unknown, depth: number, budget: { left: number }): string | undefined {
  if (--budget.left < 0) return `value holds more than ${crdtLimits.valueElementsMax} elements`;
  if (x === null || typeof x === 'boolean') return undefined;
  if (typeof x === 'number') return Number.isFinite(x) ? undefined : 'value holds a number that is not finite';
  if (typeof x === 'string') return stringProblem(x, crdtLimits.stringBytesMax);
  if (typeof x !== 'object') return `value holds a ${typeof x}`;
  if (depth >= crdtLimits.valueDepthMax) return `value is nested deeper than ${crdtLimits.valueDepthMax}`;
  if (Array.isArray(x)) {
    for (let i = 0; i < x.length; i++) {
      const p = treeProblem(x[i] as unknown, depth + 1, budget);
      if (p !== undefined) return p;
    }
    return undefined;
  }
  const proto = Object.getPrototypeOf(x) as unknown;
  if (proto !== Object.prototype && proto !== null) return 'value holds an object that is not plain';
  for (const key of Object.keys(x)) {
    if (key === '__proto__') return 'value holds the key __proto__';
    const kp = keyProblem(key);
    if (kp !== undefined) return kp;
    const p = treeProblem((x as Record<string, unknown>)[key], depth + 1, budget);
    if (p !== undefined) return p;
  }
  return undefined;
}

/** Structural equality of plain values (key order of objects does not matter). */
export function plainEquals(a: Plain, b: Plain): boolean {
  return plainCompare(a, b) === 0;
}

const rank = (x: Plain): number =>
  x === null ? 0 : typeof x === 'boolean' ? 1 : typeof x === 'number' ? 2 : typeof x === 'string' ? 3 : Array.isArray(x) ? 4 : 5;

/** A total order on plain values: by type (null, boolean, number, string, array, object), then value. */
export function plainCompare(a: Plain, b: Plain): number {
  if (a === b) return 0;
  const ra = rank(a);
  const rb = rank(b);
  if (ra !== rb) return ra - rb;
  if (ra <= 3) return (a as number | string | boolean) < (b as number | string | boolean) ? -1 : (a as number) === (b as number) ? 0 : 1;
  if (ra === 4) {
    const xa = a as readonly Plain[];
    const xb = b as readonly Plain[];
    const n = Math.min(xa.length, xb.length);
    for (let i = 0; i < n; i++) {
      const c = plainCompare(xa[i] as Plain, xb[i] as Plain);
      if (c !== 0) return c;
    }
    return xa.length - xb.length;
  }
  return compareObjects(a as Readonly<Record<string, Plain>>, b as Readonly<Record<string, Plain>>);
}

function compareObjects(a: Readonly<Record<string, Plain>>, b: Readonly<Record<string, Plain>>): number {
  const ka = Object.keys(a).sort();
  const kb = Object.keys(b).sort();
  const n = Math.min(ka.length, kb.length);
  for (let i = 0; i < n; i++) {
    const x = ka[i] as string;
    const y = kb[i] as string;
    if (x !== y) return x < y ? -1 : 1;
    const c = plainCompare(a[x] as Plain, b[y] as Plain);
    if (c !== 0) return c;
  }
  return ka.length - kb.length;
}
