/**
 * Key → partition.
 *
 * As in riak_core (`chash:key_of/1`), the key space is the output of SHA-1 and the P partitions
 * are P equal, contiguous arcs of it: partition i holds the hashes whose top log2(P) bits equal
 * i. Only the first 32 bits of the digest are needed for P ≤ 2^12, and because P is a power of
 * two, a key's partition under P is its partition under 2P shifted right by one bit (each
 * partition splits cleanly in two if the ring is ever resized).
 *
 * What is hashed is an unambiguous encoding of the pair, so no two different (bucket, key)
 * pairs share an input ('a', 'bc' vs 'ab', 'c'):
 *
 *     u32 big-endian UTF-8 length of bucket ‖ bucket UTF-8 ‖ u32 big-endian length of key ‖ key UTF-8
 *
 * SHA-1's collision weakness does not matter here: an adversary who controls keys can at most
 * choose which partition a key lands in, which they can already do by trying keys. The format
 * is pinned by test vectors (test/keys.test.ts); changing it moves every stored key.
 */
import { hash } from 'node:crypto';
import { InvalidKeyError } from './errors.js';
import { bucketBytesMax, keyBytesMax } from './limits.js';
import { isWellFormed } from './names.js';

const controlCharacter = /[\u0000-\u001f]/;

/** Checks one part of a key; returns its UTF-8 length. Throws InvalidKeyError. */
function checkPart(what: string, s: string, bytesMax: number): number {
  if (typeof s !== 'string') throw new InvalidKeyError(`the ${what} must be a string`);
  if (!isWellFormed(s)) throw new InvalidKeyError(`the ${what} contains a lone surrogate (not valid UTF-16)`);
  // Storage keys cannot hold control characters (@shoal/runtime checkKey); refuse them here so
  // that every key the ring places can also be stored.
  if (controlCharacter.test(s)) throw new InvalidKeyError(`the ${what} contains a control character`);
  const length = Buffer.byteLength(s, 'utf8');
  if (length > bytesMax) throw new InvalidKeyError(`the ${what} is ${length} bytes, more than the ${bytesMax} allowed`);
  return length;
}

/** The 20-byte SHA-1 digest that places `(bucket, key)` on the ring. Throws InvalidKeyError. */
export function keyDigest(bucket: string, key: string): Buffer {
  const b = checkPart('bucket', bucket, bucketBytesMax);
  const k = checkPart('key', key, keyBytesMax);
  // One buffer and a one-shot hash: this runs on every request.
  const input = Buffer.allocUnsafe(8 + b + k);
  input.writeUInt32BE(b, 0);
  input.write(bucket, 4, 'utf8');
  input.writeUInt32BE(k, 4 + b);
  input.write(key, 8 + b, 'utf8');
  return hash('sha1', input, 'buffer');
}

/** log2 of a power of two P (1 … 2^31). */
export function partitionBits(partitionCount: number): number {
  return 31 - Math.clz32(partitionCount);
}

/** The partition (0 … P−1) of a digest: its top log2(P) bits. */
export function partitionOfDigest(digest: Uint8Array, partitionCount: number): number {
  const bits = partitionBits(partitionCount);
  if (bits === 0) return 0; // `x >>> 32` is `x` in JavaScript, not 0
  const top32 = (((digest[0] ?? 0) << 24) | ((digest[1] ?? 0) << 16) | ((digest[2] ?? 0) << 8) | (digest[3] ?? 0)) >>> 0;
  return top32 >>> (32 - bits);
}

/** The partition of `(bucket, key)` on a ring of `partitionCount` partitions. Throws InvalidKeyError. */
export function partitionOf(partitionCount: number, bucket: string, key: string): number {
  return partitionOfDigest(keyDigest(bucket, key), partitionCount);
}

/** The partition of `(bucket, key)` on `ring`. Throws InvalidKeyError. */
export function keyPartition(ring: { readonly partitionCount: number }, bucket: string, key: string): number {
  return partitionOf(ring.partitionCount, bucket, key);
}
