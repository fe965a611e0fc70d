// Codec: frames and batch frames round-trip; every malformed input is rejected with its category
// and counted once; encode refuses what a receiver would refuse.
import t from 'tap';
import type { Test } from 'tap';
import {
  Registry,
  s,
  WireCodec,
  EncodeError,
  batchItem,
  isMessage,
  rejectCategories,
  shoalRegistry,
  ActorSends,
} from '@shoal/wire';
import type { DecodeResult, StatsSnapshot } from '@shoal/wire';
import { packValue } from '../src/msgpack.js';

const registry = new Registry();
const Ping = registry.define({ id: 10, name: 'test.ping', schema: s.object({ seq: s.uint(), from: s.optional(s.string({ bytesMax: 16 })) }) });
const Blob = registry.define({ id: 300, name: 'test.blob', schema: s.object({ data: s.bytes({ bytesMax: 1000 }) }), limits: { frameBytesMax: 200 } });
const Any = registry.define({ id: 200, name: 'test.any', schema: s.any() });
const Tiny = registry.define({ id: 4000, name: 'test.tiny', schema: s.array(s.uint(), { lengthMax: 10 }), limits: { arrayLengthMax: 3 } });

const hex = (h: string) => Uint8Array.from(Buffer.from(h.replace(/\s+/g, ''), 'hex'));

function sumsUp(t: Test, snap: StatsSnapshot, fed: number): void {
  t.equal(snap.accepted + snap.rejected, fed, 'accepted + rejected = fed');
  t.equal(Object.values(snap.byCategory).reduce((a, b) => a + b, 0), snap.rejected, 'categories sum to rejected');
}

t.test('round trip of single frames', async (t) => {
  const codec = new WireCodec(registry);
  const frame = codec.encode(Ping, { seq: 7, from: 'a' });
  t.same([...frame.subarray(0, 2)], [0x92, 10], 'frame = [id, body]');
  const m = codec.decode(frame);
  t.ok(m.ok);
  if (m.ok && isMessage(m, Ping)) {
    t.equal(m.name, 'test.ping');
    t.same(m.body, { seq: 7, from: 'a' });
    const seq: number = m.body.seq;
    t.equal(seq, 7);
  } else t.fail('expected a ping');
  const noFrom = codec.decode(codec.encode(Ping, { seq: 1, from: undefined }));
  t.same(noFrom.ok && noFrom.body, { seq: 1 }, 'an undefined optional field is omitted');
  const blob = codec.decode(codec.encode(Blob, { data: Uint8Array.of(1, 2, 3) }));
  t.same(blob.ok && blob.body, { data: Buffer.of(1, 2, 3) });
  t.same(codec.decode(codec.encode(Any, { deep: [1, 'two', null, true, 1.5, -3] })).ok, true);
  t.equal(codec.stats.message.accepted, 4);
});

t.test('encoded frames are independent buffers', async (t) => {
  const codec = new WireCodec(registry);
  const a = codec.encode(Ping, { seq: 1 });
  const copy = Uint8Array.from(a);
  for (let i = 0; i < 10_000; i++) codec.encode(Ping, { seq: i });
  t.same([...a], [...copy], 'later encodes do not overwrite an earlier frame');
});

t.test('decoded bins do not alias the frame', async (t) => {
  const codec = new WireCodec(registry);
  const frame = codec.encode(Blob, { data: Uint8Array.of(9, 9) });
  const m = codec.decode(frame);
  frame.fill(0);
  t.same(m.ok && [...(m.body as { data: Uint8Array }).data], [9, 9]);
});

t.test('encode refuses what the receiver would refuse', async (t) => {
  const codec = new WireCodec(registry);
  t.throws(() => codec.encode(Ping, { seq: -1 }), { name: 'EncodeError', message: 'test.ping: body.seq: integer -1 outside [0, 9007199254740991]' });
  t.throws(() => codec.encode(Ping, { seq: 1, from: 'x'.repeat(17) }), EncodeError);
  t.throws(() => codec.encode(Any, [1, undefined]), /rejected by the receiver: ext type/, 'undefined inside an array');
  t.throws(() => codec.encode(Any, new Date()), EncodeError);
  t.throws(() => codec.encode(Any, new Map([[1, 2]])), /not a string/);
  t.throws(() => codec.encode(Any, 2n ** 60n), /outside/);
  const cycle: Record<string, unknown> = {};
  cycle['self'] = cycle;
  t.throws(() => codec.encode(Any, cycle), EncodeError);
  t.throws(() => codec.encode(Any, Symbol('x')), EncodeError);
  t.throws(() => codec.encode(Blob, { data: new Uint8Array(500) }), /frameBytesMax/);
  t.throws(() => codec.encode(Tiny, [1, 2, 3, 4]), /arrayLengthMax/, 'type limits apply when encoding');
  const other = new Registry().define({ id: 10, name: 'test.ping', schema: s.any() });
  t.throws(() => codec.encode(other, 1), /not in this codec's registry/);
});

t.test('decode rejects with the right category, never throws, counts everything', async (t) => {
  const codec = new WireCodec(registry);
  const cases: [Uint8Array, string][] = [
    [hex(''), 'truncated'],
    [hex('92'), 'truncated'],
    [hex('92 0a'), 'truncated'],
    [hex('93 0a 80 80'), 'bad-frame'],
    [hex('92 ce 00000001 c0'), 'bad-frame'],
    [hex('92 a1 61 c0'), 'bad-frame'],
    [hex('92 0b 80'), 'unknown-type'],
    [hex('92 cd ffff 80'), 'unknown-type'],
    [hex('92 0a 81 a3 736571 01 00'), 'trailing-bytes'],
    [hex('92 0a 81 a3 736571 ff'), 'schema'],
    [hex('92 0a 82 a3 736571 01 a1 78 01'), 'schema'],
    [hex('92 0a 80'), 'schema'],
    [hex('92 0a d4 00 00'), 'ext-type'],
    [Buffer.concat([hex('92 cd 012c 81 a4 64617461 c5 00c8'), new Uint8Array(200)]), 'frame-too-large'],
    [hex('92 cc c8 c1'), 'reserved-byte'],
    [hex('92 cd 0fa0 94 01 02 03 04'), 'array-too-long'],
    [codec.encodeBatch([batchItem(Ping, { seq: 1 })]), 'bad-frame'],
  ];
  for (const [bytes, category] of cases) {
    let r: DecodeResult | undefined;
    t.doesNotThrow(() => (r = codec.decode(bytes)));
    t.equal(r?.ok === false && r.category, category, `${Buffer.from(bytes).toString('hex').slice(0, 40)} → ${category}: ${r?.ok === false ? r.reason : 'accepted'}`);
  }
  t.doesNotThrow(() => codec.decode('not bytes' as unknown as Uint8Array));
  t.doesNotThrow(() => codec.decode(null as unknown as Uint8Array));
  const snap = codec.statsSnapshot().message;
  sumsUp(t, snap, cases.length + 2);
  t.equal(snap.accepted, 0);
  t.same(Object.keys(snap.byCategory), [...rejectCategories], 'every category is present, as a plain object');
  t.equal(JSON.parse(JSON.stringify(snap)).rejected, cases.length + 2, 'JSON-serialisable for metrics');
});

t.test('schema reasons name the path', async (t) => {
  const codec = new WireCodec(registry);
  const r = codec.decode(Uint8Array.from(Buffer.concat([hex('92 0a'), packValue({ seq: 1, from: 'x'.repeat(20) })])));
  t.same(r, { ok: false, category: 'schema', reason: 'test.ping: body.from: string longer than 16 bytes' });
});

t.test('batches: round trip, empty, mixed types, big counts', async (t) => {
  const codec = new WireCodec(registry);
  const empty = codec.encodeBatch([]);
  t.same([...empty], [0x91, 0x00]);
  const e = codec.decodeBatch(empty);
  t.same(e.ok && e.messages, []);
  const items = [batchItem(Ping, { seq: 1 }), batchItem(Blob, { data: Uint8Array.of(1) }), batchItem(Any, 'x'), batchItem(Ping, { seq: 2, from: 'b' })];
  const d = codec.decodeBatch(codec.encodeBatch(items));
  t.ok(d.ok);
  if (d.ok) {
    t.same(d.messages.map((m) => m.name), ['test.ping', 'test.blob', 'test.any', 'test.ping']);
    t.same(d.messages[3]?.body, { seq: 2, from: 'b' });
    t.equal(d.messages[1]?.type, Blob);
  }
  const many = Array.from({ length: 4096 }, (_, i) => batchItem(Ping, { seq: i }));
  const big = codec.decodeBatch(codec.encodeBatch(many));
  t.equal(big.ok && big.messages.length, 4096, 'array32-free up to batchItemsMax');
  t.throws(() => codec.encodeBatch([...many, batchItem(Ping, { seq: 0 })]), /batchItemsMax/);
  t.throws(() => codec.encodeBatch([batchItem(Ping, { seq: 1 }), batchItem(Ping, { seq: -1 })]), /batch item 1 \(test.ping\): body.seq/);
  sumsUp(t, codec.statsSnapshot().batch, 3);
});

t.test('batches are rejected as a whole', async (t) => {
  const codec = new WireCodec(registry, { batch: { batchItemsMax: 4, batchBytesMax: 1000 } });
  const ok = codec.encodeBatch([batchItem(Ping, { seq: 1 })]);
  const cases: [Uint8Array, string][] = [
    [hex(''), 'truncated'],
    [hex('92 00 01'), 'bad-frame'],
    [hex('91 01'), 'bad-frame'],
    [hex('93 0a 80 80'), 'bad-frame'],
    [hex('80'), 'bad-frame'],
    [hex('dc 00'), 'truncated'],
    [hex('dd 00 00 00 0b 00'), 'batch-too-large'],
    [hex('9b 00'), 'batch-too-large'],
    [hex('95 00 0a 81 a3 736571 01'), 'truncated'],
    [hex('93 00 0a 81 a3 736571 ff'), 'schema'],
    [hex('93 00 0b 80'), 'unknown-type'],
    [hex('93 00 c0 80'), 'bad-frame'],
    [hex('93 00 0a c1'), 'reserved-byte'],
    [hex('93 00 0a 80 00'), 'trailing-bytes'],
    [Buffer.concat([ok, hex('00')]), 'trailing-bytes'],
    [new Uint8Array(1001), 'frame-too-large'],
    [Buffer.concat([hex('93 00 cd 012c 81 a4 64617461 c5 00c8'), new Uint8Array(200)]), 'frame-too-large'],
    [codec.encode(Ping, { seq: 1 }), 'bad-frame'],
  ];
  for (const [bytes, category] of cases) {
    const r = codec.decodeBatch(bytes);
    t.equal(r.ok === false && r.category, category, `${Buffer.from(bytes).toString('hex').slice(0, 40)} → ${category}: ${r.ok ? 'accepted' : r.reason}`);
  }
  t.doesNotThrow(() => codec.decodeBatch(undefined as unknown as Uint8Array));
  sumsUp(t, codec.statsSnapshot().batch, cases.length + 1);
  t.throws(() => codec.encodeBatch(Array.from({ length: 4 }, () => batchItem(Any, 'x'.repeat(300)))), /batchBytesMax/);
});

t.test('codec limits: defaults, overrides, per type', async (t) => {
  const codec = new WireCodec(registry, { limits: { depthMax: 3 } });
  t.equal(codec.limits.depthMax, 3);
  t.equal(codec.limitsOf(Blob).frameBytesMax, 200);
  t.equal(codec.limitsOf(Blob).depthMax, 3);
  const deep = codec.decode(Uint8Array.from(Buffer.concat([hex('92 cc c8'), packValue([[[[1]]]])])));
  t.equal(deep.ok === false && deep.category, 'depth');
  t.throws(() => new WireCodec(registry, { limits: { depthMax: 0 } }), { name: 'LimitsError' });
});

t.test('actor.sends: refs once, (to, from, body) triples; indexes are checked before anyone sees a message', async (t) => {
  const codec = new WireCodec(shoalRegistry);
  const refs = [{ node: 'n1', path: ['a'] }, { node: 'n2', path: ['b', 'c'] }];
  const good = { refs, items: [0, null, { x: 1 }, 0, 1, 'two', 1, 0, [3]] };
  const ok = codec.decodeBatch(codec.encodeBatch([batchItem(ActorSends, good)]));
  t.ok(ok.ok && isMessage(ok.messages[0]!, ActorSends) && ok.messages[0].body.items.length === 9, 'round trip');
  const bad: [string, unknown][] = [
    ['to out of range', { refs, items: [2, null, 1] }],
    ['to negative', { refs, items: [-1, null, 1] }],
    ['to not an integer', { refs, items: [0.5, null, 1] }],
    ['to a string', { refs, items: ['0', null, 1] }],
    ['from out of range', { refs, items: [0, 5, 1] }],
    ['from neither null nor index', { refs, items: [0, 'n1', 1] }],
    ['not triples', { refs, items: [0, null] }],
    ['no refs, a message', { refs: [], items: [0, null, 1] }],
    ['a bad ref', { refs: [{ node: '', path: [] }], items: [0, null, 1] }],
    ['an unknown field', { refs, items: [], extra: 1 }],
  ];
  for (const [what, body] of bad) {
    t.throws(() => codec.encodeBatch([batchItem(ActorSends, body as never)]), EncodeError, `encode refuses: ${what}`);
    // A hostile peer's frame, built without our encoder's checks.
    const frame = packValue([0, ActorSends.id, body]);
    const r = codec.decodeBatch(frame);
    t.equal(r.ok ? 'accepted' : r.category, 'schema', `decode refuses: ${what}`);
  }
});

t.test('encodeBatch { scan: false } skips only the scan of values, not the frame bounds', async (t) => {
  const codec = new WireCodec(registry, { batch: { batchBytesMax: 4096 } });
  const frame = codec.encodeBatch([batchItem(Any, { a: [1, 'x'] })], { scan: false });
  t.ok(codec.decodeBatch(frame).ok, 'a checked body round-trips');
  t.throws(() => codec.encodeBatch([batchItem(Any, 'x'.repeat(5000))], { scan: false }), /batchBytesMax/, 'the frame bound holds');
  // Blob bodies are bounded at 200 bytes: a frame over that is scanned, and its item measured.
  t.throws(() => codec.encodeBatch([batchItem(Blob, { data: new Uint8Array(300) })], { scan: false }), /frameBytesMax/, 'an item over its bound is caught');
  t.ok(codec.decodeBatch(codec.encodeBatch([batchItem(Blob, { data: new Uint8Array(100) })], { scan: false })).ok, 'a small one is not');
  // What the option trusts the caller with: without the scan a bad value goes out (the receiver refuses it).
  const unchecked = codec.encodeBatch([batchItem(Any, { s: '\ud800' })], { scan: false });
  t.equal((r => (r.ok ? 'accepted' : r.category))(codec.decodeBatch(unchecked)), 'bad-utf8');
  t.throws(() => codec.encodeBatch([batchItem(Any, { s: '\ud800' })]), EncodeError, 'the default scan catches it');
});

t.test("undefinedFields: 'reject' packs without skipValues; an undefined then fails at encode", async (t) => {
  const strict = new WireCodec(registry, { undefinedFields: 'reject' });
  const lenient = new WireCodec(registry);
  t.ok(strict.decode(strict.encode(Ping, { seq: 1, from: 'x' })).ok);
  t.ok(lenient.decode(lenient.encode(Ping, { seq: 1, from: undefined })).ok, 'omit: the field is left out');
  t.throws(() => strict.encode(Ping, { seq: 1, from: undefined }), EncodeError, 'reject: refused, never sent');
  t.throws(() => strict.encodeBatch([batchItem(Any, { a: undefined })]), EncodeError);
});
