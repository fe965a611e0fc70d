// Schemas: each combinator accepts what it should, refuses the rest with a reason naming the
// path, infers the right TypeScript type (checked at compile time), and never throws.
import t from 'tap';
import { s, validate, is, SchemaError } from '@shoal/wire';
import type { Infer } from '@shoal/wire';

const member = s.object({
  name: s.string({ bytesMax: 64, bytesMin: 1 }),
  port: s.uint({ max: 65535 }),
  role: s.enum(['core', 'agent']),
  tags: s.optional(s.record(s.string({ bytesMax: 32 }), { entriesMax: 4 })),
});
const members = s.object({ epoch: s.int({ min: -10 }), members: s.array(member, { lengthMax: 8 }) });

// Type-level checks: these lines fail to compile if inference breaks.
type Member = Infer<typeof member>;
const typed: Member = { name: 'n1', port: 7946, role: 'core' };
const typedWithTags: Member = { name: 'n1', port: 1, role: 'agent', tags: { zone: 'a' } };
// @ts-expect-error role must be one of the enum values
const badRole: Member = { name: 'n1', port: 1, role: 'other' };
void badRole;

t.test('accepts valid values and infers their type', async (t) => {
  t.ok(is(member, typed));
  t.ok(is(member, typedWithTags));
  const r = validate(members, { epoch: 3, members: [typed, typedWithTags] });
  t.ok(r.ok);
  if (r.ok) t.equal(r.value.members[1]?.tags?.['zone'], 'a');
});

t.test('reasons name the path', async (t) => {
  const long = 'x'.repeat(65);
  const r = validate(members, { epoch: 0, members: [typed, typed, typed, { ...typed, name: long }] }, 'body');
  t.same(r, { ok: false, reason: 'body.members[3].name: string longer than 64 bytes' });
  const r2 = validate(members, { epoch: 0, members: [{ ...typed, tags: { 'a b': 7 } }] });
  t.same(r2, { ok: false, reason: 'members[0].tags["a b"]: expected string, got number' });
  const r3 = validate(member, { ...typed, extra: 1 });
  t.same(r3, { ok: false, reason: 'extra: unknown field' });
  const r4 = validate(member, { port: 1, role: 'core' });
  t.same(r4, { ok: false, reason: 'name: required field missing' });
});

t.test('strings: bytes, characters, pattern', async (t) => {
  const bytes4 = s.string({ bytesMax: 4 });
  t.ok(is(bytes4, 'abcd'));
  t.notOk(is(bytes4, 'abcde'));
  t.ok(is(bytes4, 'éé'), '2 × 2 bytes');
  t.notOk(is(bytes4, 'ééé'), '3 × 2 bytes');
  t.notOk(is(bytes4, '😀x'), '4 + 1 bytes');
  const chars2 = s.string({ charsMax: 2 });
  t.ok(is(chars2, '😀😀'), 'two code points in four UTF-16 units');
  t.notOk(is(chars2, '😀😀😀'));
  const nonEmpty = s.string({ bytesMin: 1 });
  t.notOk(is(nonEmpty, ''));
  const id = s.string({ pattern: /^[a-z]+$/ });
  t.ok(is(id, 'abc'));
  t.notOk(is(id, 'ab1'));
  t.throws(() => s.string({ pattern: /a/g }), SchemaError);
  t.throws(() => s.string({ bytesMax: -1 }), SchemaError);
});

t.test('numbers', async (t) => {
  const u = s.uint({ max: 10 });
  t.ok(is(u, 0));
  t.ok(is(u, 10));
  t.notOk(is(u, 11));
  t.notOk(is(u, -1));
  t.notOk(is(u, 1.5));
  t.notOk(is(s.uint(), 2 ** 53), 'beyond the safe integers');
  t.ok(is(s.int(), -(2 ** 53 - 1)));
  t.notOk(is(s.int({ min: -5, max: 5 }), -6));
  t.ok(is(s.number(), 1.5));
  t.notOk(is(s.number(), NaN));
  t.notOk(is(s.number(), Infinity));
  t.ok(is(s.number({ nonFinite: true }), Infinity));
  t.notOk(is(s.number({ min: 0, max: 1 }), 1.01));
  t.notOk(is(s.uint(), '1'));
  t.throws(() => s.int({ min: 5, max: 1 }), SchemaError);
});

t.test('scalars, bytes, literal, enum', async (t) => {
  t.ok(is(s.boolean(), false));
  t.notOk(is(s.boolean(), 0));
  t.ok(is(s.null(), null));
  t.notOk(is(s.null(), undefined));
  const nonce = s.bytes({ length: 4 });
  t.ok(is(nonce, new Uint8Array(4)));
  t.notOk(is(nonce, new Uint8Array(3)));
  t.notOk(is(nonce, new Uint16Array(4)));
  t.notOk(is(nonce, [0, 0, 0, 0]));
  t.notOk(is(s.bytes({ bytesMax: 2 }), new Uint8Array(3)));
  t.ok(is(s.literal(1), 1));
  t.notOk(is(s.literal(1), '1'));
  t.ok(is(s.literal(null), null));
  t.ok(is(s.enum(['a', 'b']), 'b'));
  t.notOk(is(s.enum(['a', 'b']), 'c'));
});

t.test('arrays and tuples', async (t) => {
  const a = s.array(s.uint(), { lengthMax: 3 });
  t.ok(is(a, [1, 2, 3]));
  t.notOk(is(a, [1, 2, 3, 4]));
  t.same(validate(a, [1, 'x']), { ok: false, reason: '[1]: expected integer, got string' });
  t.notOk(is(a, { length: 0 }));
  const pair = s.tuple([s.string(), s.uint()]);
  const v: Infer<typeof pair> = ['a', 1];
  t.ok(is(pair, v));
  t.notOk(is(pair, ['a']));
  t.notOk(is(pair, ['a', 1, 2]));
  t.notOk(is(pair, [1, 'a']));
});

t.test('objects: plain only, unknown keys, optional fields', async (t) => {
  const o = s.object({ a: s.uint(), b: s.optional(s.string()) });
  t.ok(is(o, { a: 1 }));
  t.ok(is(o, { a: 1, b: undefined }), 'an optional field set to undefined counts as absent');
  t.ok(is(o, Object.assign(Object.create(null) as object, { a: 1 })), 'null prototype is plain');
  t.notOk(is(o, new Map([['a', 1]])));
  t.notOk(is(o, [1]));
  t.notOk(is(o, new Date()));
  class A {
    a = 1;
  }
  t.notOk(is(o, new A()), 'class instances are not plain');
  t.notOk(is(o, { a: 1, c: 2 }));
  const open = s.object({ a: s.uint() }, { unknownKeys: 'allow' });
  t.ok(is(open, { a: 1, c: 2 }));
  t.throws(() => s.object({ constructor: s.uint() }), SchemaError, 'prototype names are refused as fields');
  t.throws(() => s.object({ toString: s.uint() }), SchemaError);
  // a missing field never reads through to Object.prototype
  t.notOk(is(s.object({ x: s.any() }), {}), 'any still requires the field');
});

t.test('unions and tagged unions', async (t) => {
  const u = s.union([s.uint(), s.string()]);
  t.ok(is(u, 1));
  t.ok(is(u, 'x'));
  const r = validate(u, true);
  t.equal(r.ok, false);
  if (!r.ok) t.match(r.reason, /matches none of 2 variants/);
  const shape = s.taggedUnion('kind', [
    s.object({ kind: s.literal('circle'), r: s.number() }),
    s.object({ kind: s.literal('square'), side: s.number() }),
  ]);
  type Shape = Infer<typeof shape>;
  const c: Shape = { kind: 'circle', r: 1 };
  t.ok(is(shape, c));
  t.ok(is(shape, { kind: 'square', side: 2 }));
  t.same(validate(shape, { kind: 'square', r: 2 }), { ok: false, reason: 'side: required field missing' });
  t.same(validate(shape, { kind: 'triangle' }), { ok: false, reason: 'kind: unknown variant "triangle"' });
  t.same(validate(shape, { r: 1 }), { ok: false, reason: 'kind: expected string tag, got undefined' });
  t.throws(() => s.taggedUnion('kind', [s.object({ kind: s.string() })]), SchemaError);
  t.throws(
    () => s.taggedUnion('k', [s.object({ k: s.literal('a') }), s.object({ k: s.literal('a') })]),
    SchemaError,
  );
});

t.test('records', async (t) => {
  const r = s.record(s.uint(), { entriesMax: 2, key: s.string({ pattern: /^[a-z]+$/ }) });
  t.ok(is(r, {}));
  t.ok(is(r, { a: 1, b: 2 }));
  t.notOk(is(r, { a: 1, b: 2, c: 3 }));
  t.same(validate(r, { A: 1 }), { ok: false, reason: 'A: key: string does not match /^[a-z]+$/' });
  t.notOk(is(r, { a: 'x' }));
});

t.test('any accepts everything; check never throws on odd values', async (t) => {
  t.ok(is(s.any(), undefined));
  const odd: unknown[] = [undefined, null, 0, -0, NaN, '', Symbol('x'), 10n, () => 1, new Proxy({}, {}), Object.create(null), []];
  const schemas = [member, members, s.array(s.any(), { lengthMax: 1 }), s.tuple([s.any()]), s.record(s.any(), { entriesMax: 1 })];
  for (const schema of schemas) for (const v of odd) t.doesNotThrow(() => validate(schema, v));
});
