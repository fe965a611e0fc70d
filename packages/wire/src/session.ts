/**
 * Session cipher: what protects a stream after the handshake (handshake.ts).
 *
 * Each direction has its own key, derived with HKDF-SHA256 from the cluster key that passed the
 * handshake, salted with both handshake nonces (fresh per connection), info `shoal c2s` or
 * `shoal s2c`. Every frame is AES-256-GCM:
 *
 *     frame = counter (8 bytes, big-endian) ‖ ciphertext ‖ tag (16 bytes)
 *     nonce = 0x00000000 ‖ counter          AAD = cluster name
 *
 * The counter starts at 0 and grows by one per frame in each direction, so a nonce never
 * repeats under a key. Streams are ordered, so the receiver accepts only the exact next
 * counter: a replayed, reordered or dropped frame is rejected (`counter`), a tampered one fails
 * authentication (`auth`). The counter travels in clear so that those two are told apart; it is
 * authenticated because it is the nonce.
 *
 * A rejected frame leaves the receiver's state unchanged, but it means the stream is corrupt or
 * attacked: the shell must close the connection on the first rejection (the pure functions
 * `sealSessionFrame`/`openSessionFrame` are what the fuzzer drives).
 */
import { Buffer } from 'node:buffer';
import { createCipheriv, hkdfSync } from 'node:crypto';
import { EncodeError } from './errors.js';
import { decrypt, sealTagBytes } from './seal.js';
import { DecodeStats, reject } from './stats.js';
import type { Rejection } from './stats.js';

export const sessionCounterBytes = 8;
export const sessionOverheadBytes = sessionCounterBytes + sealTagBytes;
/** Default bound on one session frame (a batch frame fits with room to spare). */
export const sessionFrameBytesMaxDefault = 16 * 1024 * 1024 + sessionOverheadBytes;
/** Frames per direction, at most: counters stay exact JavaScript integers. */
export const sessionFramesMax = Number.MAX_SAFE_INTEGER;

export interface SessionKeys {
  readonly sendKey: Uint8Array;
  readonly recvKey: Uint8Array;
}

/** The two direction keys, seen from `role`'s side. */
export function deriveSessionKeys(key: Uint8Array, clientNonce: Uint8Array, serverNonce: Uint8Array, role: 'client' | 'server'): SessionKeys {
  const salt = Buffer.concat([clientNonce, serverNonce]);
  const c2s = new Uint8Array(hkdfSync('sha256', key, salt, 'shoal c2s', 32));
  const s2c = new Uint8Array(hkdfSync('sha256', key, salt, 'shoal s2c', 32));
  return role === 'client' ? { sendKey: c2s, recvKey: s2c } : { sendKey: s2c, recvKey: c2s };
}

function nonceFor(counterBytes: Uint8Array): Uint8Array {
  const nonce = new Uint8Array(12);
  nonce.set(counterBytes, 4);
  return nonce;
}

/** Pure: seals one frame with `counter`. */
export function sealSessionFrame(key: Uint8Array, aad: Uint8Array, counter: number, plaintext: Uint8Array): Uint8Array {
  const head = Buffer.alloc(sessionCounterBytes);
  head.writeUInt32BE(Math.floor(counter / 0x1_0000_0000), 0);
  head.writeUInt32BE(counter >>> 0, 4);
  const cipher = createCipheriv('aes-256-gcm', key, nonceFor(head), { authTagLength: sealTagBytes });
  cipher.setAAD(aad);
  const body = cipher.update(plaintext);
  const last = cipher.final();
  return Buffer.concat([head, body, last, cipher.getAuthTag()]);
}

export type SessionOpenResult = { readonly ok: true; readonly plaintext: Uint8Array } | Rejection;

/** Pure: opens one frame that must carry exactly `expectedCounter`. Never throws. */
export function openSessionFrame(key: Uint8Array, aad: Uint8Array, expectedCounter: number, frame: Uint8Array, bytesMax: number): SessionOpenResult {
  if (!(frame instanceof Uint8Array)) return reject('bad-frame', 'session frame is not a byte array');
  if (frame.length > bytesMax) return reject('frame-too-large', `session frame of ${frame.length} bytes exceeds ${bytesMax}`);
  if (frame.length < sessionOverheadBytes) return reject('truncated', `session frame of ${frame.length} bytes is shorter than ${sessionOverheadBytes}`);
  const view = new DataView(frame.buffer, frame.byteOffset, sessionCounterBytes);
  const counter = view.getUint32(0) * 0x1_0000_0000 + view.getUint32(4);
  if (counter !== expectedCounter) return reject('counter', `session frame counter ${counter}, expected ${expectedCounter} (replayed, reordered or dropped)`);
  const head = frame.subarray(0, sessionCounterBytes);
  const ciphertext = frame.subarray(sessionCounterBytes, frame.length - sealTagBytes);
  const tag = frame.subarray(frame.length - sealTagBytes);
  const plaintext = decrypt(key, nonceFor(head), ciphertext, tag, aad);
  return plaintext ? { ok: true, plaintext } : reject('auth', `session frame ${counter} does not authenticate (tampered or wrong key)`);
}

export interface SessionOptions {
  /** Longest frame accepted or sent, in bytes (default `sessionFrameBytesMaxDefault`). */
  frameBytesMax?: number;
  /** Counts one outcome per `open`. */
  stats?: DecodeStats;
}

/** Both directions of one authenticated stream. Made by the handshake. */
export class Session {
  readonly stats: DecodeStats;
  readonly frameBytesMax: number;
  private readonly aad: Uint8Array;
  private sendCounter = 0;
  private recvCounter = 0;

  constructor(
    private readonly keys: SessionKeys,
    readonly cluster: string,
    options: SessionOptions = {},
  ) {
    this.aad = Buffer.from(cluster, 'utf8');
    this.stats = options.stats ?? new DecodeStats();
    this.frameBytesMax = options.frameBytesMax ?? sessionFrameBytesMaxDefault;
  }

  /** Frames sealed so far (= the counter of the next one). */
  get sent(): number {
    return this.sendCounter;
  }

  /** Frames accepted so far (= the counter expected next). */
  get received(): number {
    return this.recvCounter;
  }

  seal(plaintext: Uint8Array): Uint8Array {
    if (plaintext.length + sessionOverheadBytes > this.frameBytesMax) {
      throw new EncodeError(`session frame of ${plaintext.length + sessionOverheadBytes} bytes exceeds ${this.frameBytesMax} (frameBytesMax)`);
    }
    if (this.sendCounter >= sessionFramesMax) throw new EncodeError('session counter exhausted: reconnect');
    return sealSessionFrame(this.keys.sendKey, this.aad, this.sendCounter++, plaintext);
  }

  /** Opens the next frame of the stream. Never throws; on a rejection, close the stream. */
  open(frame: Uint8Array): SessionOpenResult {
    const result = openSessionFrame(this.keys.recvKey, this.aad, this.recvCounter, frame, this.frameBytesMax);
    if (result.ok) {
      this.recvCounter++;
      this.stats.accept();
    } else {
      this.stats.reject(result);
    }
    return result;
  }
}
