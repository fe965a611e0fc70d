/**
 * Sealed packets: AES-256-GCM with the cluster keyring, memberlist's packet encryption.
 *
 *     sealed = version (1 byte, = 1) ‖ nonce (12 random bytes) ‖ ciphertext ‖ tag (16 bytes)
 *
 * The additional authenticated data is the cluster name, so a packet of another cluster fails
 * to open even when both share a key. `seal` encrypts with the primary key; `open` tries the
 * primary first, then every other key (rotation: see keyring.ts), and reports which one worked.
 *
 * Nonces are random (from the injected `Random`, the OS CSPRNG in production), not counters:
 * packets have no order and many nodes share a key. With 96-bit random nonces, one key must
 * seal fewer than 2^32 packets (NIST SP 800-38D) — at SWIM rates that is decades; rotate keys
 * long before.
 *
 * `open` never throws: anything but a packet that a key authenticates is a `Rejection`
 * (`frame-too-large`, `truncated`, `version`, `auth`), counted in `options.stats` if given.
 * The input size is bounded before any decryption (`bytesMax`, default one UDP datagram).
 */
import { Buffer } from 'node:buffer';
import { createCipheriv, createDecipheriv } from 'node:crypto';
import type { Random } from '@shoal/runtime';
import { EncodeError } from './errors.js';
import { clusterKeyBytes } from './keyring.js';
import type { Keyring } from './keyring.js';
import { reject } from './stats.js';
import type { DecodeStats, Rejection } from './stats.js';

export const sealVersion = 1;
export const sealNonceBytes = 12;
export const sealTagBytes = 16;
export const sealOverheadBytes = 1 + sealNonceBytes + sealTagBytes;
/** Default bound on a sealed packet: the largest UDP payload. */
export const sealedBytesMaxDefault = 65_507;

export type OpenResult = { readonly ok: true; readonly plaintext: Uint8Array; readonly keyIndex: number } | Rejection;

export interface OpenOptions {
  /** Longest sealed input accepted, in bytes (default `sealedBytesMaxDefault`). */
  bytesMax?: number;
  /** Counts one outcome per call. */
  stats?: DecodeStats;
}

/** Seals `plaintext` with the keyring's primary key. */
export function seal(keyring: Keyring, clusterName: string, plaintext: Uint8Array, random: Random): Uint8Array {
  return sealWithKey(keyring.keyAt(0)!, clusterName, plaintext, random);
}

/** Seals `plaintext` with one given key (the handshake answers with the key that opened). */
export function sealWithKey(key: Uint8Array, clusterName: string, plaintext: Uint8Array, random: Random): Uint8Array {
  if (key.length !== clusterKeyBytes) throw new EncodeError(`seal: key must be ${clusterKeyBytes} bytes`);
  const nonce = random.bytes(sealNonceBytes);
  if (nonce.length !== sealNonceBytes) throw new EncodeError('seal: Random.bytes returned the wrong length');
  const cipher = createCipheriv('aes-256-gcm', key, nonce, { authTagLength: sealTagBytes });
  cipher.setAAD(Buffer.from(clusterName, 'utf8'));
  const body = cipher.update(plaintext);
  const last = cipher.final();
  return Buffer.concat([Buffer.of(sealVersion), nonce, body, last, cipher.getAuthTag()]);
}

/** Opens a packet with any key of the keyring, primary first. Never throws. */
export function open(keyring: Keyring, clusterName: string, bytes: Uint8Array, options: OpenOptions = {}): OpenResult {
  return count(openWith((i) => keyring.keyAt(i), clusterName, bytes, options.bytesMax), options.stats);
}

/** Opens a packet with exactly one key. Never throws. */
export function openWithKey(key: Uint8Array, clusterName: string, bytes: Uint8Array, options: OpenOptions = {}): OpenResult {
  return count(
    openWith((i) => (i === 0 ? key : undefined), clusterName, bytes, options.bytesMax),
    options.stats,
  );
}

function count(result: OpenResult, stats: DecodeStats | undefined): OpenResult {
  if (stats) {
    if (result.ok) stats.accept();
    else stats.reject(result);
  }
  return result;
}

function openWith(
  keyAt: (i: number) => Uint8Array | undefined,
  clusterName: string,
  bytes: Uint8Array,
  bytesMax = sealedBytesMaxDefault,
): OpenResult {
  if (!(bytes instanceof Uint8Array)) return reject('bad-frame', 'sealed packet is not a byte array');
  if (bytes.length > bytesMax) return reject('frame-too-large', `sealed packet of ${bytes.length} bytes exceeds ${bytesMax}`);
  if (bytes.length < sealOverheadBytes) return reject('truncated', `sealed packet of ${bytes.length} bytes is shorter than ${sealOverheadBytes}`);
  if (bytes[0] !== sealVersion) return reject('version', `unknown sealed packet version ${bytes[0]}`);
  const nonce = bytes.subarray(1, 1 + sealNonceBytes);
  const ciphertext = bytes.subarray(1 + sealNonceBytes, bytes.length - sealTagBytes);
  const tag = bytes.subarray(bytes.length - sealTagBytes);
  const aad = Buffer.from(clusterName, 'utf8');
  let i = 0;
  for (let key = keyAt(0); key !== undefined; key = keyAt(++i)) {
    const plaintext = decrypt(key, nonce, ciphertext, tag, aad);
    if (plaintext) return { ok: true, plaintext, keyIndex: i };
  }
  return reject('auth', `no key of ${i} opens the packet (wrong key, wrong cluster name, or tampered)`);
}

/** AES-256-GCM decryption; `undefined` when the tag does not authenticate. */
export function decrypt(key: Uint8Array, nonce: Uint8Array, ciphertext: Uint8Array, tag: Uint8Array, aad: Uint8Array): Uint8Array | undefined {
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, nonce, { authTagLength: sealTagBytes });
    decipher.setAuthTag(tag);
    decipher.setAAD(aad);
    const body = decipher.update(ciphertext);
    const last = decipher.final(); // throws when the tag does not match
    return last.length === 0 ? body : Buffer.concat([body, last]);
  } catch {
    return undefined;
  }
}
