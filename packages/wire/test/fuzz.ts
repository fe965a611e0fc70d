/**
 * Fuzzer for every decoder of @shoal/wire (a library used by fuzz.test.ts and fuzz-main.ts).
 *
 * The threat model is yjs's: the peer is hostile. Each target wraps one decoder — message,
 * batch, sealed packet, session frame, and each handshake step — and offers valid inputs for
 * its current state. The fuzzer feeds it, from a seeded PRNG (so any run replays from its
 * seed):
 *   - random bytes, plain or biased towards msgpack header bytes;
 *   - mutated valid frames: bit flips, interesting bytes, truncations, extensions, inserted and
 *     deleted runs, corrupted length fields, splices of two frames, nesting bombs and huge
 *     declared lengths grafted after a valid prefix, dictionary tokens (`__proto__` keys, ext
 *     types, out-of-range integers), and stacks of several of these;
 *   - for decoders behind authentication, mutated *plaintexts* sealed with the right key, so
 *     the inner decoding is fuzzed by an attacker who holds the key;
 *   - valid frames unchanged, so that both outcomes are exercised.
 *
 * It checks, per target: no call throws (a throw is a crash, kept with its frame as hex); every
 * call counts exactly one outcome (accepted + rejected = fed − crashes, categories sum to
 * rejected, and the accepted count matches what the decoder returned); and it records the
 * slowest single call, so a hang-like input shows up as a number rather than a stuck run.
 */
import { Buffer } from 'node:buffer';
import { seededRandom } from '@shoal/runtime';
import type { Random } from '@shoal/runtime';
import {
  ActorBatch,
  ActorSends,
  DecodeStats,
  HandshakeHello,
  Keyring,
  Registry,
  Session,
  WireCodec,
  batchItem,
  clientReceive,
  clientStart,
  deriveSessionKeys,
  generateKey,
  handshakeContext,
  open,
  s,
  seal,
  sealSessionFrame,
  sealWithKey,
  serverReceive,
  shoalRegistry,
  rejectCategories,
} from '@shoal/wire';
import type { BatchItem, ClientState, RejectCategory, ServerState, StatsSnapshot } from '@shoal/wire';

export interface FuzzTarget {
  readonly name: string;
  /** A valid frame for the target's current state. */
  seed(random: Random): Uint8Array;
  /** A valid plaintext, to be mutated and then made authentic with `wrap`. */
  innerSeed?(random: Random): Uint8Array;
  wrap?(plaintext: Uint8Array, random: Random): Uint8Array;
  /** Feeds one frame to the decoder; true when it was accepted. Must never throw. */
  feed(frame: Uint8Array): boolean;
  stats(): StatsSnapshot;
}

export interface Crash {
  readonly target: string;
  readonly frame: string;
  readonly error: string;
}

export interface FuzzReport {
  readonly name: string;
  readonly seed: number;
  readonly fed: number;
  readonly accepted: number;
  readonly rejected: number;
  readonly byCategory: Partial<Record<RejectCategory, number>>;
  readonly elapsedMs: number;
  readonly framesPerSecond: number;
  readonly slowestMs: number;
  readonly crashes: readonly Crash[];
  /** Broken counting invariants (empty when all hold). */
  readonly problems: readonly string[];
}

// ---- mutations -----------------------------------------------------------------------------

const interesting = [0x00, 0x01, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc1, 0xc4, 0xc6, 0xc7, 0xcf, 0xd3, 0xd4, 0xd8, 0xd9, 0xdb, 0xdc, 0xdd, 0xde, 0xdf, 0xe0, 0xff];
/** Header bytes followed by a 1-, 2- or 4-byte length. */
const lengthBytes = new Map<number, number>([
  [0xc4, 1], [0xc5, 2], [0xc6, 4], [0xc7, 1], [0xc8, 2], [0xc9, 4], [0xd9, 1], [0xda, 2], [0xdb, 4], [0xdc, 2], [0xdd, 4], [0xde, 2], [0xdf, 4],
]);
const hugeHeads = ['dd ffffffff', 'dd 7fffffff', 'df 3fffffff', 'db ffffffff', 'db 0000ffff', 'c6 7fffffff', 'dc ffff', 'de ffff', 'da ffff', 'c9 ffffffff 01'];

/** Tokens that a random mutation would almost never spell: forbidden keys, ext types, extremes. */
const dictionary = [
  'a95f5f70726f746f5f5f', // "__proto__"
  'ab636f6e7374727563746f72', // "constructor"
  'a970726f746f74797065', // "prototype"
  'd9095f5f70726f746f5f5f', // "__proto__" as str8
  'd47200', // msgpackr record extension
  'd6ff00000000', // timestamp ext
  'c1',
  'cf0020000000000000', // 2^53
  'd3ffe0000000000000', // -2^53
  'cb7ff8000000000000', // NaN
  'dd00010000', // array of 65,536
  'df00010001', // map of 65,537
  'c0',
].map((h) => Buffer.from(h, 'hex'));

const pick = <T>(random: Random, xs: readonly T[]): T => xs[random.int(xs.length)]!;

function randomBytes(random: Random): Uint8Array {
  const n = random.chance(0.9) ? random.int(64) : random.int(4096);
  const out = random.bytes(n);
  if (random.chance(0.5)) for (let i = 0; i < n; i++) if (random.chance(0.3)) out[i] = pick(random, interesting);
  return out;
}

function flipBits(random: Random, x: Uint8Array): Uint8Array {
  const out = Uint8Array.from(x);
  if (out.length === 0) return out;
  for (let k = 1 + random.int(8); k > 0; k--) out[random.int(out.length)]! ^= 1 << random.int(8);
  return out;
}

function setBytes(random: Random, x: Uint8Array): Uint8Array {
  const out = Uint8Array.from(x);
  if (out.length === 0) return out;
  for (let k = 1 + random.int(3); k > 0; k--) out[random.int(out.length)] = pick(random, interesting);
  return out;
}

function truncate(random: Random, x: Uint8Array): Uint8Array {
  return x.subarray(0, random.int(Math.max(1, x.length)));
}

function extend(random: Random, x: Uint8Array): Uint8Array {
  return Buffer.concat([x, random.chance(0.5) ? random.bytes(1 + random.int(16)) : x]);
}

function insertDelete(random: Random, x: Uint8Array): Uint8Array {
  const at = random.int(x.length + 1);
  if (random.chance(0.5)) return Buffer.concat([x.subarray(0, at), random.bytes(1 + random.int(8)), x.subarray(at)]);
  return Buffer.concat([x.subarray(0, at), x.subarray(Math.min(x.length, at + 1 + random.int(8)))]);
}

/** Rewrites a length field: after a length-bearing header, or the low bits of a fix type. */
function corruptLength(random: Random, x: Uint8Array): Uint8Array {
  const out = Uint8Array.from(x);
  for (let tries = 0; tries < 16 && out.length > 0; tries++) {
    const at = random.int(out.length);
    const b = out[at]!;
    const size = lengthBytes.get(b);
    if (size !== undefined && at + size < out.length) {
      const value = pick(random, [0, 1, 0xff, 0x7f, 0x80]);
      for (let i = 1; i <= size; i++) out[at + i] = i === 1 && random.chance(0.5) ? random.int(256) : value;
      return out;
    }
    if (b >= 0x80 && b <= 0xbf) {
      out[at] = (b & 0xe0) | random.int(b < 0xa0 ? 16 : 32) | (b < 0xa0 ? b & 0xf0 : 0);
      return out;
    }
  }
  return flipBits(random, x);
}

/** Writes or inserts a dictionary token at a random offset. */
function dictionaryToken(random: Random, x: Uint8Array): Uint8Array {
  const token = pick(random, dictionary);
  const at = random.int(x.length + 1);
  const rest = random.chance(0.5) ? x.subarray(at) : x.subarray(Math.min(x.length, at + token.length));
  return Buffer.concat([x.subarray(0, at), token, rest]);
}

function splice(random: Random, a: Uint8Array, b: Uint8Array): Uint8Array {
  return Buffer.concat([a.subarray(0, random.int(a.length + 1)), b.subarray(random.int(b.length + 1))]);
}

/** A valid prefix followed by deep nesting: arrays, maps of maps, or alternating. */
function nestingBomb(random: Random, x: Uint8Array): Uint8Array {
  const depth = 1 + random.int(random.chance(0.95) ? 100 : 20_000);
  const unit = Buffer.from(pick(random, [[0x91], [0x81, 0xa1, 0x61], [0xdc, 0x00, 0x01], [0x92, 0x01]]));
  const body = Buffer.alloc(depth * unit.length + 1, unit);
  body[body.length - 1] = 0xc0;
  return Buffer.concat([x.subarray(0, random.int(Math.min(x.length, 8) + 1)), body]);
}

function hugeLength(random: Random, x: Uint8Array): Uint8Array {
  const head = Buffer.from(pick(random, hugeHeads).replace(/ /g, ''), 'hex');
  return Buffer.concat([x.subarray(0, random.int(x.length + 1)), head, random.bytes(random.int(32))]);
}

/** One mutation of `x` (`other` gives a second valid input, for splices). */
export function mutate(random: Random, x: Uint8Array, other: () => Uint8Array): Uint8Array {
  switch (random.int(12)) {
    case 0:
      return flipBits(random, x);
    case 1:
      return setBytes(random, x);
    case 2:
      return truncate(random, x);
    case 3:
      return extend(random, x);
    case 4:
      return insertDelete(random, x);
    case 5:
    case 6:
      return corruptLength(random, x);
    case 7:
      return splice(random, x, other());
    case 8:
      return nestingBomb(random, x);
    case 9:
      return hugeLength(random, x);
    case 10:
      return dictionaryToken(random, x);
    default: {
      let y = x;
      for (let k = 2 + random.int(3); k > 0; k--) y = mutate(random, y, other);
      return y;
    }
  }
}

/** The next input for `target`: random, mutated, mutated-then-sealed, or valid. */
export function nextFrame(random: Random, target: FuzzTarget): Uint8Array {
  const roll = random.float();
  if (roll < 0.05) return randomBytes(random);
  if (roll < 0.1) return target.seed(random);
  if (target.innerSeed && target.wrap && roll < 0.55) {
    const plain = target.innerSeed(random);
    const inner = target.innerSeed;
    return target.wrap(random.chance(0.1) ? plain : mutate(random, plain, () => inner(random)), random);
  }
  return mutate(random, target.seed(random), () => target.seed(random));
}

// ---- the run -------------------------------------------------------------------------------

function errorText(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}

/** Feeds `frames` inputs to `target` and checks the counting invariants. */
export function fuzzTarget(target: FuzzTarget, frames: number, seed: number, crashesMax = 20): FuzzReport {
  const random = seededRandom(seed);
  const before = target.stats();
  const crashes: Crash[] = [];
  let crashCount = 0;
  let accepted = 0;
  let slowestMs = 0;
  const started = performance.now();
  for (let i = 0; i < frames; i++) {
    const frame = nextFrame(random, target);
    const t0 = performance.now();
    try {
      if (target.feed(frame)) accepted++;
    } catch (err) {
      crashCount++;
      if (crashes.length < crashesMax) crashes.push({ target: target.name, frame: Buffer.from(frame).toString('hex'), error: errorText(err) });
    }
    const ms = performance.now() - t0;
    if (ms > slowestMs) slowestMs = ms;
  }
  const elapsedMs = performance.now() - started;
  const after = target.stats();
  const byCategory: Partial<Record<RejectCategory, number>> = {};
  let categorySum = 0;
  for (const c of rejectCategories) {
    const n = after.byCategory[c] - before.byCategory[c];
    categorySum += n;
    if (n > 0) byCategory[c] = n;
  }
  const statAccepted = after.accepted - before.accepted;
  const statRejected = after.rejected - before.rejected;
  const problems: string[] = [];
  if (statAccepted !== accepted) problems.push(`stats say ${statAccepted} accepted, the decoder returned ${accepted}`);
  if (statAccepted + statRejected !== frames - crashCount) problems.push(`accepted + rejected = ${statAccepted + statRejected}, fed ${frames - crashCount} (without crashes)`);
  if (categorySum !== statRejected) problems.push(`categories sum to ${categorySum}, rejected ${statRejected}`);
  return {
    name: target.name,
    seed,
    fed: frames,
    accepted: statAccepted,
    rejected: statRejected,
    byCategory,
    elapsedMs,
    framesPerSecond: frames / (elapsedMs / 1000),
    slowestMs,
    crashes,
    problems: crashCount > crashes.length ? [...problems, `${crashCount} crashes (first ${crashes.length} kept)`] : problems,
  };
}

// ---- targets -------------------------------------------------------------------------------

/** Shoal's types plus a few with every schema kind, to give the message decoder more to chew. */
function fuzzRegistry(): Registry {
  const registry = new Registry();
  for (const type of shoalRegistry.list()) registry.define({ id: type.id, name: type.name, schema: type.schema, limits: type.limits });
  registry.define({
    id: 900,
    name: 'fuzz.member',
    schema: s.object({
      name: s.string({ bytesMax: 64 }),
      incarnation: s.uint(),
      state: s.enum(['alive', 'suspect', 'dead', 'left']),
      meta: s.record(s.union([s.string({ bytesMax: 64 }), s.number(), s.boolean(), s.null()]), { entriesMax: 16 }),
      addr: s.tuple([s.string({ bytesMax: 64 }), s.uint({ max: 65535 })]),
      ext: s.optional(s.bytes({ bytesMax: 64 })),
    }),
    limits: { depthMax: 4, elementsMax: 40 },
  });
  registry.define({
    id: 901,
    name: 'fuzz.event',
    schema: s.taggedUnion('kind', [
      s.object({ kind: s.literal('put'), key: s.string(), value: s.any() }),
      s.object({ kind: s.literal('del'), key: s.string(), at: s.int() }),
    ]),
  });
  registry.define({ id: 902, name: 'fuzz.anything', schema: s.any(), limits: { frameBytesMax: 4096 } });
  return registry;
}

const sampleBodies: unknown[] = [
  null, true, 0, -1, 2 ** 40, 1.5, 'text', 'ünïcødé ☃', Uint8Array.of(1, 2, 3),
  [1, 'two', [3, [4]]], { a: 1, b: { c: [null, false] } }, { deep: [[[[[{ x: 1 }]]]]] },
];

function sampleItems(random: Random, registry: Registry): BatchItem[] {
  const member = registry.byName('fuzz.member')!;
  const event = registry.byName('fuzz.event')!;
  const anything = registry.byName('fuzz.anything')!;
  const actor = registry.byId(ActorBatch.id)!;
  const sends = registry.byId(ActorSends.id)!;
  const ref = (i: number) => ({ node: `node-${i}`, path: ['user', `a${i}`] });
  const one = (): BatchItem => {
    switch (random.int(5)) {
      case 0:
        return batchItem(member, { name: `n${random.int(100)}`, incarnation: random.int(1000), state: 'alive', meta: { role: 'core', w: 1.5, ok: true, none: null }, addr: ['10.0.0.1', 7946] });
      case 1:
        return batchItem(event, random.chance(0.5) ? { kind: 'put', key: 'k', value: pick(random, sampleBodies) } : { kind: 'del', key: 'k', at: -5 });
      case 2:
        return batchItem(anything, pick(random, sampleBodies));
      case 3:
        return batchItem(actor, { items: [{ to: ref(1), from: ref(2), body: pick(random, sampleBodies) }, { to: ref(3), body: 'hi' }] });
      default:
        return batchItem(sends, { refs: [ref(1), ref(2)], items: [0, 1, pick(random, sampleBodies), 1, null, 'hi', 0, null, pick(random, sampleBodies)] });
    }
  };
  return Array.from({ length: 1 + random.int(6) }, one);
}

function messageTarget(random: Random): FuzzTarget {
  const registry = fuzzRegistry();
  const codec = new WireCodec(registry);
  const pool = Array.from({ length: 64 }, () => {
    const item = sampleItems(random, registry)[0]!;
    return codec.encode(item.type, item.body as never);
  });
  return {
    name: 'message',
    seed: (r) => pick(r, pool),
    feed: (frame) => codec.decode(frame).ok,
    stats: () => codec.stats.message.snapshot(),
  };
}

function batchTarget(random: Random): FuzzTarget {
  const registry = fuzzRegistry();
  const codec = new WireCodec(registry, { batch: { batchItemsMax: 64, batchBytesMax: 64 * 1024 } });
  const pool = Array.from({ length: 64 }, () => codec.encodeBatch(sampleItems(random, registry)));
  return {
    name: 'batch',
    seed: (r) => pick(r, pool),
    feed: (frame) => codec.decodeBatch(frame).ok,
    stats: () => codec.stats.batch.snapshot(),
  };
}

function openTarget(random: Random): FuzzTarget {
  const keyring = new Keyring([generateKey(random), generateKey(random)]);
  const older = new Keyring([keyring.list()[1]!]);
  const stats = new DecodeStats();
  const pool = Array.from({ length: 32 }, (_, i) => seal(i % 2 === 0 ? keyring : older, 'prod', random.bytes(random.int(200)), random));
  return {
    name: 'open',
    seed: (r) => pick(r, pool),
    feed: (frame) => open(keyring, 'prod', frame, { stats }).ok,
    stats: () => stats.snapshot(),
  };
}

function sessionTarget(random: Random): FuzzTarget {
  const key = generateKey(random);
  const cn = random.bytes(32);
  const sn = random.bytes(32);
  const sender = deriveSessionKeys(key, cn, sn, 'client');
  const receiver = new Session(deriveSessionKeys(key, cn, sn, 'server'), 'prod', { frameBytesMax: 64 * 1024 });
  const aad = Buffer.from('prod');
  // Valid frames are made for the receiver's current counter (so accepting one keeps the next
  // valid), a few for the one after; sealing is the costly part, so they are cached per counter.
  let cachedFor = -1;
  let cache: Uint8Array[] = [];
  const seed = (r: Random): Uint8Array => {
    if (cachedFor !== receiver.received) {
      cachedFor = receiver.received;
      cache = Array.from({ length: 8 }, (_, i) => sealSessionFrame(sender.sendKey, aad, cachedFor + (i === 7 ? 1 : 0), r.bytes(r.int(200))));
    }
    return pick(r, cache);
  };
  return {
    name: 'session',
    seed,
    feed: (frame) => receiver.open(frame).ok,
    stats: () => receiver.stats.snapshot(),
  };
}

const helloPlain = (codec: WireCodec, random: Random) =>
  codec.encode(HandshakeHello, { v: 1, cluster: 'prod', node: `node-${random.int(9)}`, nonce: random.bytes(32) });

/** Server, step 1: hellos. */
function helloTarget(random: Random): FuzzTarget {
  const key = generateKey(random);
  const stats = new DecodeStats();
  const ctx = handshakeContext({ keyring: new Keyring([generateKey(random), key]), cluster: 'prod', node: 'server', random: random.fork(), stats });
  const codec = new WireCodec(shoalRegistry);
  const initial: ServerState = { phase: 'await-hello' };
  const plains = Array.from({ length: 32 }, () => helloPlain(codec, random));
  const pool = plains.map((p) => sealWithKey(key, 'prod', p, random));
  return {
    name: 'handshake.hello',
    seed: (r) => pick(r, pool),
    innerSeed: (r) => pick(r, plains),
    wrap: (plain, r) => sealWithKey(key, 'prod', plain, r),
    feed: (frame) => serverReceive(ctx, initial, frame).step.error === undefined,
    stats: () => stats.snapshot(),
  };
}

/** Client, step 2: challenges, against one client state awaiting a challenge. */
function challengeTarget(random: Random): FuzzTarget {
  const keyring = new Keyring([generateKey(random)]);
  const stats = new DecodeStats();
  const client = handshakeContext({ keyring, cluster: 'prod', node: 'client', random: random.fork(), stats });
  const server = handshakeContext({ keyring, cluster: 'prod', node: 'server', random: random.fork() });
  const started = clientStart(client, { phase: 'start' });
  const state: ClientState = started.state;
  const valid = serverReceive(server, { phase: 'await-hello' }, started.frame).step.send!;
  const key = keyring.primary;
  const plain = openWithKeyOrThrow(key, valid);
  return {
    name: 'handshake.challenge',
    seed: () => valid,
    innerSeed: () => plain,
    wrap: (p, r) => sealWithKey(key, 'prod', p, r),
    feed: (frame) => clientReceive(client, state, frame).step.error === undefined,
    stats: () => stats.snapshot(),
  };
}

/** Server, step 3: responses, against one server state awaiting a response. */
function responseTarget(random: Random): FuzzTarget {
  const keyring = new Keyring([generateKey(random)]);
  const stats = new DecodeStats();
  const client = handshakeContext({ keyring, cluster: 'prod', node: 'client', random: random.fork() });
  const server = handshakeContext({ keyring, cluster: 'prod', node: 'server', random: random.fork(), stats });
  const started = clientStart(client, { phase: 'start' });
  const afterHello = serverReceive(server, { phase: 'await-hello' }, started.frame);
  const valid = clientReceive(client, started.state, afterHello.step.send!).step.send!;
  const state = afterHello.state;
  const key = keyring.primary;
  const plains = [openWithKeyOrThrow(key, valid), openWithKeyOrThrow(key, afterHello.step.send!)];
  return {
    name: 'handshake.response',
    seed: () => valid,
    innerSeed: (r) => pick(r, plains),
    wrap: (p, r) => sealWithKey(key, 'prod', p, r),
    feed: (frame) => serverReceive(server, state, frame).step.error === undefined,
    stats: () => stats.snapshot(),
  };
}

function openWithKeyOrThrow(key: Uint8Array, frame: Uint8Array): Uint8Array {
  const r = open(new Keyring([key]), 'prod', frame);
  if (!r.ok) throw new Error(`fuzz setup: ${r.reason}`);
  return r.plaintext;
}

/** Every decoder, set up from `seed`. */
export function allTargets(seed: number): FuzzTarget[] {
  const random = seededRandom(seed);
  return [
    messageTarget(random.fork()),
    batchTarget(random.fork()),
    openTarget(random.fork()),
    sessionTarget(random.fork()),
    helloTarget(random.fork()),
    challengeTarget(random.fork()),
    responseTarget(random.fork()),
  ];
}

// ---- reporting -----------------------------------------------------------------------------

const num = (n: number) => Math.round(n).toLocaleString('en-US');

/** One small table per decoder: fed, accepted, rejected by reason, frames/s. */
export function formatReport(r: FuzzReport): string {
  const rows: [string, string][] = [
    ['fed', num(r.fed)],
    ['accepted', num(r.accepted)],
    ['rejected', num(r.rejected)],
    ...Object.entries(r.byCategory)
      .sort((a, b) => b[1] - a[1])
      .map(([c, n]): [string, string] => [`  ${c}`, num(n)]),
    ['frames/s', num(r.framesPerSecond)],
    ['slowest frame', `${r.slowestMs.toFixed(2)} ms`],
    ['crashes', String(r.crashes.length)],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  const valueWidth = Math.max(...rows.map(([, v]) => v.length));
  const lines = rows.map(([k, v]) => `  ${k.padEnd(width)}  ${v.padStart(valueWidth)}`);
  const problems = r.problems.map((p) => `  PROBLEM: ${p}`);
  return [`${r.name} (seed ${r.seed})`, ...lines, ...problems].join('\n');
}
