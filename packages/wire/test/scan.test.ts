// Scanner: accepts every plain msgpack value and rejects each hostile shape with its category,
// in time proportional to the bytes; also pins down what msgpackr itself does with __proto__.
import t from 'tap';
import { Packr, Unpackr } from 'msgpackr';
import { Scanner, defaultWireLimits, resolveLimits, LimitsError } from '@shoal/wire';
// Internal on purpose (msgpack.ts must only see scanned bytes); the test reaches in.
import { packValue, unpackRange } from '../src/msgpack.js';
import type { WireLimits } from '@shoal/wire';

const hex = (h: string) => Uint8Array.from(Buffer.from(h.replace(/\s+/g, ''), 'hex'));
const str = (text: string) => {
  const b = Buffer.from(text, 'utf8');
  if (b.length > 31) throw new Error('fixstr only');
  return Buffer.concat([Buffer.of(0xa0 | b.length), b]).toString('hex');
};

function scan(bytes: Uint8Array, limits: Partial<WireLimits> = {}): { end: number; category?: string; reason?: string } {
  const scanner = new Scanner();
  const end = scanner.scan(bytes, 0, bytes.length, resolveLimits(defaultWireLimits, limits));
  return end < 0 ? { end, category: scanner.category, reason: scanner.reason } : { end };
}

t.test('accepts every plain msgpack type and returns the end offset', async (t) => {
  const values: unknown[] = [
    0, 1, 127, 128, 255, 256, 65535, 65536, 2 ** 32, 2 ** 53 - 1, -1, -32, -33, -128, -129, -32768, -32769, -(2 ** 31), -(2 ** 53 - 1),
    1.5, -0.25, null, true, false, '', 'x'.repeat(31), 'x'.repeat(32), 'y'.repeat(300), 'z'.repeat(70000), 'héllo ☃ 😀',
    new Uint8Array(0), new Uint8Array(300), new Uint8Array(70000), [], [1, [2, [3]]], new Array(20).fill(1), new Array(70000).fill(0),
    {}, { a: 1, b: { c: [1, 'd'] } }, Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`k${i}`, i])),
  ];
  for (const v of values) {
    const bytes = packValue(v);
    const r = scan(bytes, { mapSizeMax: 100_000, arrayLengthMax: 100_000, stringBytesMax: 100_000 });
    t.equal(r.end, bytes.length, `scans ${JSON.stringify(v)?.slice(0, 40)}`);
  }
  const big = packValue(Object.fromEntries(Array.from({ length: 70000 }, (_, i) => [`k${i}`, i])));
  t.equal(scan(big, { mapSizeMax: 70000, elementsMax: 200_000 }).end, big.length, 'map32');
  const u64 = hex('cf 001fffff ffffffff');
  t.equal(scan(u64).end, 9, 'uint64 2^53-1');
  t.equal(unpackRange(u64, 0, 9), 2 ** 53 - 1);
  const i64 = hex('d3 ffe00000 00000001');
  t.equal(scan(i64).end, 9, 'int64 -(2^53-1)');
  t.equal(unpackRange(i64, 0, 9), -(2 ** 53 - 1));
});

t.test('stops at the end of one value (the caller checks trailing bytes)', async (t) => {
  t.equal(scan(hex('01 02')).end, 1);
  t.equal(scan(hex('92 01 02 c0')).end, 3);
});

t.test('rejects each hostile shape with its category', async (t) => {
  const cases: [string, string, Partial<WireLimits>?][] = [
    ['', 'truncated'],
    ['92 01', 'truncated'],
    ['dd ffffffff', 'array-too-long'],
    ['dd 3fffffff 00', 'truncated', { arrayLengthMax: 0x3fffffff }],
    ['df 0fffffff 00', 'truncated', { mapSizeMax: 0x3fffffff }],
    ['94 01 02 03', 'truncated'],
    ['81 a1 61', 'truncated'],
    ['dc 00', 'truncated'],
    ['db ffffffff 41', 'string-too-long'],
    ['db 00000005 41', 'truncated'],
    ['c6 ffffffff 00', 'bin-too-long'],
    ['c6 00000010 00', 'truncated'],
    ['c4', 'truncated'],
    ['cb 0000', 'truncated'],
    ['d3 00', 'truncated'],
    ['c1', 'reserved-byte'],
    ['d4 00 00', 'ext-type'],
    ['d4 72 00', 'ext-type'],
    ['d6 ff 00000000', 'ext-type'],
    ['c7 01 01 00', 'ext-type'],
    ['c8 0001 01 00', 'ext-type'],
    ['c9 00000001 01 00', 'ext-type'],
    ['d5 01 0000', 'ext-type'],
    ['d7 ff 0000000000000000', 'ext-type'],
    ['d8 01 00000000000000000000000000000000', 'ext-type'],
    ['cf 00200000 00000000', 'int-range'],
    ['cf ffffffff ffffffff', 'int-range'],
    ['d3 00200000 00000000', 'int-range'],
    ['d3 ffe00000 00000000', 'int-range'],
    ['d3 80000000 00000000', 'int-range'],
    ['81 01 01', 'bad-key'],
    ['81 c0 01', 'bad-key'],
    ['81 91 01 01', 'bad-key'],
    ['81 c4 01 61 01', 'bad-key'],
    [`81 ${str('__proto__')} 80`, 'proto-key'],
    [`81 d9 09 ${Buffer.from('__proto__').toString('hex')} 80`, 'proto-key'],
    [`81 ${str('constructor')} 80`, 'proto-key'],
    [`81 ${str('prototype')} 01`, 'proto-key'],
    ['a2 c3 28', 'bad-utf8'],
    ['a3 ed a0 80', 'bad-utf8'],
    ['a1 80', 'bad-utf8'],
    ['d9 02 ff fe', 'bad-utf8'],
    ['93 01 02 03', 'array-too-long', { arrayLengthMax: 2 }],
    ['82 a1 61 01 a1 62 02', 'map-too-large', { mapSizeMax: 1 }],
    ['a3 616263', 'string-too-long', { stringBytesMax: 2 }],
    ['c4 03 010203', 'bin-too-long', { binBytesMax: 2 }],
    ['93 01 02 03', 'too-many-elements', { elementsMax: 3 }],
    ['91 91 91 c0', 'depth', { depthMax: 2 }],
    ['91 91 90', 'depth', { depthMax: 2 }],
  ];
  for (const [h, category, limits] of cases) {
    const r = scan(hex(h), limits);
    t.equal(r.category, category, `${h} → ${category} (${r.reason ?? 'accepted'})`);
  }
  t.equal(scan(hex('91 91 c0'), { depthMax: 2 }).end, 3, 'depth exactly at the limit is fine');
  t.equal(scan(hex('93 01 02 03'), { elementsMax: 4 }).end, 4, 'elements exactly at the limit are fine');
});

t.test('a nesting bomb costs time proportional to its bytes, and no stack', async (t) => {
  const deep = new Uint8Array(1_000_000).fill(0x91);
  const r = scan(deep);
  t.equal(r.category, 'depth');
  const wide = Buffer.concat([hex('dd 3fffffff'), new Uint8Array(100)]);
  t.equal(scan(wide, { arrayLengthMax: 0x3fffffff }).category, 'truncated', 'declared length past the end');
});

t.test('msgpackr itself: how it treats __proto__ and why the scanner rejects it', async (t) => {
  // Plain msgpackr (not our configuration) with a __proto__ key: it renames the key to
  // `__proto_` instead of polluting the prototype — safe, but the message silently changes.
  const raw = hex(`81 ${str('__proto__')} 81 ${str('polluted')} c3`);
  const decoded = new Unpackr({ mapsAsObjects: true, useRecords: false }).unpack(raw) as Record<string, unknown>;
  t.same(Object.keys(decoded), ['__proto_'], 'msgpackr renames the key');
  t.equal(({} as Record<string, unknown>)['polluted'], undefined, 'Object.prototype is untouched');
  t.equal(Object.getPrototypeOf(decoded), Object.prototype);
  // Our scanner refuses the key outright, in every str encoding.
  t.equal(scan(raw).category, 'proto-key');
  // msgpackr encodes an own __proto__ property (as JSON.parse makes one) as a plain key.
  const fromJson = JSON.parse('{"__proto__": {"polluted": true}}') as unknown;
  const packed = new Packr({ useRecords: false }).pack(fromJson);
  t.equal(scan(packed).category, 'proto-key', 'so our encoder self-check refuses it too');
});

t.test('limits are validated', async (t) => {
  t.throws(() => resolveLimits(defaultWireLimits, { depthMax: 0 }), LimitsError);
  t.throws(() => resolveLimits(defaultWireLimits, { depthMax: 100_000 }), LimitsError);
  t.throws(() => resolveLimits(defaultWireLimits, { frameBytesMax: 1.5 }), LimitsError);
  t.throws(() => resolveLimits(defaultWireLimits, { elementsMax: 2 ** 31 }), LimitsError);
  const l = resolveLimits(defaultWireLimits, { depthMax: 4 });
  t.equal(l.depthMax, 4);
  t.ok(Object.isFrozen(l));
});

t.test('the scanner grows its stack for a deeper limit', async (t) => {
  const scanner = new Scanner();
  const bytes = Buffer.concat([new Uint8Array(100).fill(0x91), hex('c0')]);
  const limits = resolveLimits(defaultWireLimits, { depthMax: 200 });
  t.equal(scanner.scan(bytes, 0, bytes.length, limits), bytes.length);
  t.equal(scanner.scan(bytes, 0, bytes.length, defaultWireLimits), -1);
  t.equal(scanner.category, 'depth');
});

t.test('long strings are checked word by word: any non-ASCII byte, at any alignment, is seen', async (t) => {
  const scanner = new Scanner();
  const limits = resolveLimits(defaultWireLimits, {});
  for (const length of [16, 17, 31, 32, 33, 80, 255, 300]) {
    for (const lead of [0, 1, 2, 3, 5]) {
      const ascii = packValue('x'.repeat(length));
      // The frame at every byte offset within a larger buffer (the words are read from it).
      const host = new Uint8Array(lead + ascii.length + 7).fill(0xff);
      host.set(ascii, lead);
      const frame = host.subarray(lead, lead + ascii.length);
      t.equal(scanner.scan(frame, 0, frame.length, limits), frame.length, `ascii ${length} at +${lead}`);
      const header = frame.length - length;
      for (const at of [0, 1, 2, 3, length >> 1, length - 4, length - 1]) {
        const badHost = host.slice();
        badHost[lead + header + at] = 0x80; // a lone continuation byte: invalid UTF-8
        const bad = badHost.subarray(lead, lead + frame.length);
        t.equal(scanner.scan(bad, 0, bad.length, limits), -1, `0x80 at ${at} of ${length}`);
        t.equal(scanner.category, 'bad-utf8');
      }
      const utf8 = packValue(`${'x'.repeat(length - 2)}é`); // valid, non-ASCII: the native check decides
      t.equal(scanner.scan(utf8, 0, utf8.length, limits), utf8.length, `utf-8 ${length}`);
    }
  }
});
