/**
 * Packets and push-pull frames as bytes: encode + seal on the way out, open + decode on the way
 * in (memberlist's net.go and security.go). Pure: no sockets, no clock; the shell (node.ts)
 * moves the bytes.
 *
 * Invariants:
 * - every byte that leaves is sealed with the keyring's primary key and the cluster name as
 *   authenticated data; nothing is decoded before it authenticates;
 * - an incoming packet or frame never throws: it is messages, or a drop with a reason from a
 *   small fixed set (a metric label) and a sentence for the debug log;
 * - an outgoing packet is at most `packetBytesMax` bytes after sealing. The core budgets for
 *   that with the same sizes; a packet that would still exceed it is a bug, reported as
 *   `PacketTooLargeError` (never sent).
 */
import type { Random } from '@shoal/runtime';
import { open, seal, sealOverheadBytes, type Keyring, type RejectCategory, type Rejection } from '@shoal/wire';
import { pushPullBytesMax, SwimCodec, type PushPullDecode } from './codec.js';
import type { MemberSnapshot, SwimMessage } from './messages.js';

/** Why an incoming packet (or push-pull frame) was dropped. */
export type DropReason =
  | 'oversize' // longer than packetBytesMax (or the push-pull limit)
  | 'auth' // no key of the keyring opens it, wrong cluster name, or tampered
  | 'seal' // not a sealed packet: truncated or an unknown seal version
  | 'decode' // authenticated, but not a valid SWIM batch (see decodeFailures for the category)
  | 'not-running'; // arrived while the node was stopping or stopped

export const dropReasons: readonly DropReason[] = ['oversize', 'auth', 'seal', 'decode', 'not-running'];

export class PacketTooLargeError extends Error {
  override name = 'PacketTooLargeError';
}

export type Opened<T> = { ok: true; value: T } | { ok: false; reason: DropReason; category: RejectCategory; detail: string };

function dropped(r: Rejection, authenticated: boolean): { ok: false; reason: DropReason; category: RejectCategory; detail: string } {
  const reason: DropReason = authenticated ? 'decode' : r.category === 'auth' ? 'auth' : r.category === 'frame-too-large' ? 'oversize' : 'seal';
  return { ok: false, reason, category: r.category, detail: r.reason };
}

export interface PacketIOOptions {
  keyring: Keyring;
  cluster: string;
  random: Random;
  packetBytesMax: number;
  membersMax: number;
}

export class PacketIO {
  readonly codec: SwimCodec;
  /** Largest sealed push-pull frame accepted (the stream's maxFrameBytes). */
  readonly frameBytesMax: number;

  constructor(private readonly opts: PacketIOOptions) {
    this.codec = new SwimCodec(opts.packetBytesMax - sealOverheadBytes);
    this.frameBytesMax = pushPullBytesMax(opts.membersMax) + sealOverheadBytes + 16;
  }

  /** One sealed packet of `messages`. Throws PacketTooLargeError if the core overfilled it (a bug). */
  sealPacket(messages: readonly SwimMessage[]): Uint8Array {
    const plain = this.codec.encodePacket(messages);
    const sealed = seal(this.opts.keyring, this.opts.cluster, plain, this.opts.random);
    if (sealed.length > this.opts.packetBytesMax) {
      throw new PacketTooLargeError(`packet of ${sealed.length} bytes exceeds packetBytesMax ${this.opts.packetBytesMax}`);
    }
    return sealed;
  }

  /** The messages of a sealed packet, or why it is dropped. Never throws. */
  openPacket(bytes: Uint8Array): Opened<SwimMessage[]> {
    const plain = open(this.opts.keyring, this.opts.cluster, bytes, { bytesMax: this.opts.packetBytesMax });
    if (!plain.ok) return dropped(plain, false);
    const decoded = this.codec.decodePacket(plain.plaintext);
    if (!decoded.ok) return dropped(decoded, true);
    return { ok: true, value: decoded.messages };
  }

  sealPushPull(from: string, members: readonly MemberSnapshot[], opts: { join: boolean; reply: boolean }): Uint8Array {
    return seal(this.opts.keyring, this.opts.cluster, this.codec.encodePushPull(from, members, opts), this.opts.random);
  }

  /** A push-pull request or reply, or why it is dropped. Never throws. */
  openPushPull(bytes: Uint8Array): Opened<Extract<PushPullDecode, { ok: true }>> {
    const plain = open(this.opts.keyring, this.opts.cluster, bytes, { bytesMax: this.frameBytesMax });
    if (!plain.ok) return dropped(plain, false);
    const decoded = this.codec.decodePushPull(plain.plaintext);
    if (!decoded.ok) return dropped(decoded, true);
    if (decoded.members.length > this.opts.membersMax) {
      return { ok: false, reason: 'oversize', category: 'array-too-long', detail: `push-pull of ${decoded.members.length} members exceeds membersMax ${this.opts.membersMax}` };
    }
    return { ok: true, value: decoded };
  }
}
