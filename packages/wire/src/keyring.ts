/**
 * Keyring: the cluster's shared AES-256 keys, as in memberlist's keyring.
 *
 * The primary key (first) encrypts; every key decrypts. Rotation without downtime is three
 * steps, each applied on every node before the next: `add(new)`, then `use(new)` (make it
 * primary), then `remove(old)`. Between the steps, nodes on either primary still understand
 * each other.
 *
 * Invariants: every key is exactly 32 bytes; no key appears twice; the primary is always in the
 * ring and can never be removed; keys are copied in and out, so no caller can change a key in
 * place.
 *
 * File format (`--key-file`): one base64 key per line, the first is the primary; blank lines
 * and lines starting with `#` are ignored. Parsing names the offending line.
 */
import { Buffer } from 'node:buffer';
import { timingSafeEqual } from 'node:crypto';
import type { Random } from '@shoal/runtime';
import { KeyringError } from './errors.js';

export const clusterKeyBytes = 32;

function checkKey(key: Uint8Array, what: string): void {
  if (!(key instanceof Uint8Array)) throw new KeyringError(`${what}: a key must be bytes`);
  if (key.length !== clusterKeyBytes) throw new KeyringError(`${what}: a key must be ${clusterKeyBytes} bytes, got ${key.length}`);
}

function sameKey(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

export class Keyring {
  /** Primary first. */
  private keys: Uint8Array[];

  /** A keyring of `keys`, the first being the primary. Throws `KeyringError`. */
  constructor(keys: readonly Uint8Array[]) {
    if (keys.length === 0) throw new KeyringError('a keyring needs at least one key');
    this.keys = [];
    keys.forEach((key, i) => {
      checkKey(key, `key ${i + 1}`);
      if (this.indexOf(key) >= 0) throw new KeyringError(`key ${i + 1} appears twice`);
      this.keys.push(Uint8Array.from(key));
    });
  }

  /** The key that encrypts (a copy). */
  get primary(): Uint8Array {
    return Uint8Array.from(this.keys[0]!);
  }

  get size(): number {
    return this.keys.length;
  }

  /** Adds a decryption key; adding a key already present does nothing. */
  add(key: Uint8Array): void {
    checkKey(key, 'add');
    if (this.indexOf(key) < 0) this.keys.push(Uint8Array.from(key));
  }

  /** Makes `key`, already in the ring, the primary. */
  use(key: Uint8Array): void {
    checkKey(key, 'use');
    const i = this.indexOf(key);
    if (i < 0) throw new KeyringError('use: the key is not in the keyring; add it first');
    const [chosen] = this.keys.splice(i, 1);
    this.keys.unshift(chosen!);
  }

  /** Removes a key that is not the primary. */
  remove(key: Uint8Array): void {
    checkKey(key, 'remove');
    const i = this.indexOf(key);
    if (i === 0) throw new KeyringError('remove: refusing to remove the primary key; use another key first');
    if (i < 0) throw new KeyringError('remove: the key is not in the keyring');
    this.keys.splice(i, 1);
  }

  /** Copies of every key, primary first. */
  list(): Uint8Array[] {
    return this.keys.map((k) => Uint8Array.from(k));
  }

  /** A copy of the key at `index` (0 = primary), or `undefined` past the end. */
  keyAt(index: number): Uint8Array | undefined {
    const key = this.keys[index];
    return key && Uint8Array.from(key);
  }

  private indexOf(key: Uint8Array): number {
    return this.keys.findIndex((k) => sameKey(k, key));
  }
}

const base64Line = /^[A-Za-z0-9+/]+={0,2}$/;

/** Parses a keyring file (see the header). Throws `KeyringError` naming the bad line. */
export function parseKeyringFile(text: string): Keyring {
  const keys: Uint8Array[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '' || line.startsWith('#')) continue;
    const where = `keyring line ${i + 1}`;
    if (!base64Line.test(line) || line.length % 4 !== 0) throw new KeyringError(`${where}: not a base64 key`);
    const key = Buffer.from(line, 'base64');
    if (key.length !== clusterKeyBytes) throw new KeyringError(`${where}: key is ${key.length} bytes, expected ${clusterKeyBytes}`);
    if (keys.some((k) => sameKey(k, key))) throw new KeyringError(`${where}: duplicate key`);
    keys.push(new Uint8Array(key));
  }
  if (keys.length === 0) throw new KeyringError('keyring file holds no keys');
  return new Keyring(keys);
}

/** Formats a keyring file: a comment line, then one base64 key per line, primary first. */
export function formatKeyringFile(keyring: Keyring): string {
  const lines = keyring.list().map((k) => Buffer.from(k).toString('base64'));
  return `# Shoal cluster keys: the first line is the primary (encrypts); all decrypt.\n${lines.join('\n')}\n`;
}

/** A fresh random key (use the Node `Random`, whose bytes come from the OS CSPRNG). */
export function generateKey(random: Random): Uint8Array {
  const key = random.bytes(clusterKeyBytes);
  checkKey(key, 'generateKey');
  return key;
}

/** Base64 of one key, as written in a keyring file. */
export function formatKey(key: Uint8Array): string {
  checkKey(key, 'formatKey');
  return Buffer.from(key).toString('base64');
}
