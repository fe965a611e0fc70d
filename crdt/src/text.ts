/**
 * Strings that may cross the wire: well-formed UTF-16 (no lone surrogates, which msgpack would
 * write as invalid UTF-8 that @shoal/wire's scanner rejects) and bounded in UTF-8 bytes.
 */
import { crdtLimits } from './limits.js';

const surrogate = /[\uD800-\uDFFF]/;

/** UTF-8 length of a well-formed string. */
export function utf8Length(s: string): number {
  let bytes = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff) {
      bytes += 4;
      i++;
    } else bytes += 3;
  }
  return bytes;
}

/** Whether every surrogate in `s` is part of a pair. */
export function isWellFormed(s: string): boolean {
  if (!surrogate.test(s)) return true;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xdc00 && c <= 0xdfff) return false;
    if (c >= 0xd800 && c <= 0xdbff) {
      const next = s.charCodeAt(i + 1);
      if (!(next >= 0xdc00 && next <= 0xdfff)) return false;
      i++;
    }
  }
  return true;
}

/** Why `s` cannot be stored under a bound of `bytesMax` UTF-8 bytes, or undefined if it can. */
export function stringProblem(s: string, bytesMax: number): string | undefined {
  if (!isWellFormed(s)) return 'string holds a lone surrogate';
  // Fast path: three bytes per UTF-16 unit is the most a well-formed string can take.
  if (s.length * 3 <= bytesMax) return undefined;
  const bytes = utf8Length(s);
  return bytes > bytesMax ? `string of ${bytes} bytes is longer than ${bytesMax}` : undefined;
}

/** Why `node` is not a valid node id (writer), or undefined if it is. */
export function nodeProblem(node: unknown): string | undefined {
  if (typeof node !== 'string') return 'node id is not a string';
  if (node.length === 0) return 'node id is empty';
  return stringProblem(node, crdtLimits.nodeIdBytesMax);
}

/** Why `key` is not a valid set element or map key, or undefined if it is. */
export function keyProblem(key: unknown): string | undefined {
  if (typeof key !== 'string') return 'key is not a string';
  return stringProblem(key, crdtLimits.keyBytesMax);
}
