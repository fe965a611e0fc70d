/**
 * SWIM on the wire: message types in Shoal's append-only registry (ids 200–208), their schemas
 * and limits, and the two frame shapes SWIM uses.
 *
 * - A **packet** (UDP) is one batch frame `[0, id₁, body₁, …]` of SWIM messages, sealed with
 *   the cluster keyring (AES-256-GCM, `@shoal/wire` seal.ts). memberlist's compound message
 *   plays the same role. Its size after sealing is at most `packetBytesMax`, so the core budgets
 *   piggybacked broadcasts with the real encoded size of each message (`measure`) plus the fixed
 *   overhead of a packet (`packetOverheadBytes`: batch header + seal); see `budget` in core.ts.
 * - A **push-pull** is one sealed message frame each way over a stream: the initiator's full
 *   state (`swim.push-pull`), then the responder's (`swim.push-pull-reply`). Its size limit is
 *   derived from `membersMax` (`pushPullBytesMax`).
 *
 * Limits, chosen so that any valid `alive` (the largest gossip message) fits in one packet
 * next to the largest probe message, with room to spare (the test checks it with maximal
 * metadata):
 * - node names: 1–64 bytes, `[A-Za-z0-9][A-Za-z0-9._-]*`;
 * - addresses: `host:port`, ≤ 64 bytes, port 1–65535, host a name, IPv4 or bracketed IPv6;
 * - version ≤ 32 bytes; tags ≤ 8 entries, keys ≤ 16 bytes, values ≤ 40 bytes;
 * - an `alive` body ≤ `aliveBytesMax` (enforced when a node sets its metadata and on decode).
 *
 * Decoding never throws (the codec answers a message or a `Rejection`); this module adds no
 * decoding of its own beyond turning accepted bodies into the core's `SwimMessage` objects.
 */
import { shoalRegistry, s, WireCodec, EncodeError, sealOverheadBytes, type BatchItem, type Message, type MessageType, type Rejection, type WireLimits } from '@shoal/wire';
import { membersMaxCeiling } from './config.js';
import type { MemberMeta, MemberSnapshot, SwimMessage } from './messages.js';

export const nodeNameBytesMax = 64;
export const addressBytesMax = 64;
export const versionBytesMax = 32;
export const tagsMax = 8;
export const tagKeyBytesMax = 16;
export const tagValueBytesMax = 40;
/** Largest encoded `alive` body (name, incarnation, metadata), bytes. */
export const aliveBytesMax = 900;
/** Messages in one packet, at most (a 1400-byte packet holds fewer than 200 of the smallest). */
export const packetItemsMax = 256;

/** Port 1–65535 without leading zeros. */
const port = '(?:6553[0-5]|655[0-2]\\d|65[0-4]\\d\\d|6[0-4]\\d{3}|[1-5]\\d{4}|[1-9]\\d{0,3})';
export const addressPattern = new RegExp(`^(?:\\[[0-9A-Fa-f:.]+\\]|[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?):${port}$`);
export const namePattern = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

const name = s.string({ bytesMin: 1, bytesMax: nodeNameBytesMax, pattern: namePattern });
const address = s.string({ bytesMin: 3, bytesMax: addressBytesMax, pattern: addressPattern });
const seq = s.uint({ max: 0xffff_ffff });
const incarnation = s.uint();

export const metaSchema = s.object({
  role: s.enum(['core', 'agent']),
  version: s.string({ bytesMin: 1, bytesMax: versionBytesMax, pattern: /^[\x21-\x7e]+$/ }),
  addresses: s.object({ gossip: address, cluster: address, http: s.optional(address) }),
  tags: s.record(s.string({ bytesMax: tagValueBytesMax }), {
    entriesMax: tagsMax,
    key: s.string({ bytesMin: 1, bytesMax: tagKeyBytesMax, pattern: /^[A-Za-z0-9][A-Za-z0-9._/-]*$/ }),
  }),
});

/** Every SWIM body: shallow maps of short strings (push-pull overrides the sizes). */
const packetLimits: Partial<WireLimits> = {
  frameBytesMax: 512,
  depthMax: 4,
  stringBytesMax: 128,
  binBytesMax: 1,
  arrayLengthMax: 1,
  mapSizeMax: tagsMax,
  elementsMax: 64,
};

export const SwimPing = shoalRegistry.define({
  id: 200,
  name: 'swim.ping',
  schema: s.object({ seq, target: name, from: name }),
  limits: packetLimits,
});

export const SwimPingReq = shoalRegistry.define({
  id: 201,
  name: 'swim.ping-req',
  schema: s.object({ seq, target: name, targetAddr: address, from: name, nack: s.boolean() }),
  limits: packetLimits,
});

export const SwimAck = shoalRegistry.define({ id: 202, name: 'swim.ack', schema: s.object({ seq }), limits: packetLimits });
export const SwimNack = shoalRegistry.define({ id: 203, name: 'swim.nack', schema: s.object({ seq }), limits: packetLimits });

export const SwimAlive = shoalRegistry.define({
  id: 204,
  name: 'swim.alive',
  schema: s.object({ name, inc: incarnation, meta: metaSchema }),
  limits: { ...packetLimits, frameBytesMax: aliveBytesMax },
});

export const SwimSuspect = shoalRegistry.define({
  id: 205,
  name: 'swim.suspect',
  schema: s.object({ name, inc: incarnation, from: name }),
  limits: packetLimits,
});

/** A `dead` whose `from` is the member itself is a graceful leave. */
export const SwimDead = shoalRegistry.define({
  id: 206,
  name: 'swim.dead',
  schema: s.object({ name, inc: incarnation, from: name }),
  limits: packetLimits,
});

const snapshot = s.object({ name, inc: incarnation, state: s.enum(['alive', 'suspect', 'dead', 'left']), meta: metaSchema });
/** Encoded snapshot of one member, at most: an alive body plus the state field. */
export const snapshotBytesMax = aliveBytesMax + 16;
/** msgpack values in one snapshot, at most (maps, keys, values; tags full). */
const snapshotElementsMax = 24 + 2 * tagsMax + 8;

/** Bytes of a push-pull body for `members` members, at most. */
export function pushPullBytesMax(members: number): number {
  return 256 + members * snapshotBytesMax;
}

const pushPullLimits: Partial<WireLimits> = {
  frameBytesMax: pushPullBytesMax(membersMaxCeiling),
  depthMax: 5,
  stringBytesMax: 128,
  binBytesMax: 1,
  arrayLengthMax: membersMaxCeiling,
  mapSizeMax: tagsMax,
  elementsMax: 16 + membersMaxCeiling * snapshotElementsMax,
};

export const SwimPushPull = shoalRegistry.define({
  id: 207,
  name: 'swim.push-pull',
  schema: s.object({ from: name, join: s.boolean(), members: s.array(snapshot, { lengthMax: membersMaxCeiling }) }),
  limits: pushPullLimits,
});

export const SwimPushPullReply = shoalRegistry.define({
  id: 208,
  name: 'swim.push-pull-reply',
  schema: s.object({ from: name, members: s.array(snapshot, { lengthMax: membersMaxCeiling }) }),
  limits: pushPullLimits,
});

/** Batch frame header (array16 + marker 0) plus the seal: the fixed cost of one packet. */
export const packetOverheadBytes = 3 + 1 + sealOverheadBytes;

const typeOf = {
  ping: SwimPing,
  'ping-req': SwimPingReq,
  ack: SwimAck,
  nack: SwimNack,
  alive: SwimAlive,
  suspect: SwimSuspect,
  dead: SwimDead,
} as const satisfies Record<SwimMessage['t'], MessageType>;

const tOf = new Map<number, SwimMessage['t']>(Object.entries(typeOf).map(([t, type]) => [type.id, t as SwimMessage['t']]));

/** The wire body of a message: the message without its tag (the type id carries it). */
function bodyOf(msg: SwimMessage): unknown {
  const { t: _t, ...body } = msg;
  return body;
}

export type PacketDecode = { ok: true; messages: SwimMessage[] } | Rejection;
export type PushPullDecode = { ok: true; from: string; join: boolean; reply: boolean; members: MemberSnapshot[] } | Rejection;

/** Encoding and decoding of SWIM packets and push-pull frames (before sealing / after opening). */
export class SwimCodec {
  readonly wire: WireCodec;

  constructor(packetBytesMax: number) {
    this.wire = new WireCodec(shoalRegistry, { batch: { batchItemsMax: packetItemsMax, batchBytesMax: packetBytesMax } });
  }

  /** Bytes `msg` adds to a packet: its id and body as they sit in a batch frame. */
  measure(msg: SwimMessage): number {
    // A message frame is 0x92 ‖ id ‖ body; in a batch the same id ‖ body follow the header.
    return this.wire.encode(typeOf[msg.t], bodyOf(msg) as never).length - 1;
  }

  encodePacket(messages: readonly SwimMessage[]): Uint8Array {
    const items: BatchItem[] = messages.map((m) => ({ type: typeOf[m.t], body: bodyOf(m) }));
    return this.wire.encodeBatch(items);
  }

  /** Never throws: the messages of a packet, or why it was refused. */
  decodePacket(bytes: Uint8Array): PacketDecode {
    const r = this.wire.decodeBatch(bytes);
    if (!r.ok) return r;
    const messages: SwimMessage[] = [];
    for (const m of r.messages) {
      const t = tOf.get(m.id);
      // A registered type that is not a packet message (a push-pull frame, an actor batch).
      if (t === undefined) return { ok: false, category: 'unexpected', reason: `${m.name} is not a SWIM packet message` };
      messages.push({ t, ...(m.body as object) } as SwimMessage);
    }
    if (messages.length === 0) return { ok: false, category: 'unexpected', reason: 'empty packet' };
    return { ok: true, messages };
  }

  encodePushPull(from: string, members: readonly MemberSnapshot[], opts: { join: boolean; reply: boolean }): Uint8Array {
    return opts.reply ? this.wire.encode(SwimPushPullReply, { from, members }) : this.wire.encode(SwimPushPull, { from, join: opts.join, members });
  }

  /** Never throws: a push-pull request or reply, or why it was refused. */
  decodePushPull(bytes: Uint8Array): PushPullDecode {
    const r = this.wire.decode(bytes);
    if (!r.ok) return r;
    return pushPullOf(r);
  }
}

function pushPullOf(m: Message): PushPullDecode {
  if (m.type === SwimPushPull) {
    const body = m.body as { from: string; join: boolean; members: MemberSnapshot[] };
    return { ok: true, from: body.from, join: body.join, reply: false, members: body.members };
  }
  if (m.type === SwimPushPullReply) {
    const body = m.body as { from: string; members: MemberSnapshot[] };
    return { ok: true, from: body.from, join: false, reply: true, members: body.members };
  }
  return { ok: false, category: 'unexpected', reason: `${m.name} is not a push-pull frame` };
}

export class SwimMetaError extends Error {
  override name = 'SwimMetaError';
}

/**
 * Checks a node's own name and metadata before it is gossiped: the schema, and the size of the
 * `alive` that will carry it. Throws `SwimMetaError` with the reason.
 */
export function checkSelf(codec: SwimCodec, nodeName: string, meta: MemberMeta): void {
  try {
    codec.wire.encode(SwimAlive, { name: nodeName, inc: Number.MAX_SAFE_INTEGER, meta });
  } catch (err) {
    if (err instanceof EncodeError) throw new SwimMetaError(`invalid node name or metadata: ${err.message}`);
    throw err;
  }
}
