/**
 * String checks shared by ring data, staged changes and keys. Every string that is hashed must
 * be well-formed UTF-16: a lone surrogate encodes to U+FFFD in UTF-8, so '\ud800' and '\ufffd'
 * would hash (and be placed) identically. Names additionally exclude control characters so
 * they print and sort alike everywhere (the same rule as storage keys in @shoal/runtime).
 */

const loneSurrogate = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const controlCharacter = /[\u0000-\u001f\u007f]/;

/** UTF-8 length of a string, in bytes. */
export function utf8Bytes(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

/** True when `s` has no lone surrogates (so its UTF-8 encoding is lossless). */
export function isWellFormed(s: string): boolean {
  return !loneSurrogate.test(s);
}

/**
 * Why `name` is not a valid node or cluster name (1 … bytesMax UTF-8 bytes, well-formed, no
 * control characters), or undefined when it is.
 */
export function nameProblem(what: string, name: unknown, bytesMax: number): string | undefined {
  if (typeof name !== 'string') return `${what} must be a string`;
  if (name.length === 0) return `${what} must not be empty`;
  if (utf8Bytes(name) > bytesMax) return `${what} is longer than ${bytesMax} bytes`;
  if (!isWellFormed(name)) return `${what} contains a lone surrogate (not valid UTF-16)`;
  if (controlCharacter.test(name)) return `${what} contains a control character`;
  return undefined;
}
