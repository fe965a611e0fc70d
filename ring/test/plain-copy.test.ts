/** copyPlain: a deep copy of plain data for the write path; anything else refused with a reason. */
import t from 'tap';
import { copyPlain, NotPlainError, plainCopyDepthMax } from '../src/plain-copy.js';

t.test('copies plain data deeply: later changes to the original do not reach the copy', async (t) => {
  const bytes = new Uint8Array([1, 2, 3]);
  const original = { a: 1, s: 'x', n: null, b: true, list: [1, { deep: ['y'] }], bytes, frozen: Object.freeze({ k: 2 }), u: undefined };
  const c = copyPlain(original);
  t.same(c, original);
  (original.list[1] as { deep: string[] }).deep.push('z');
  original.bytes[0] = 9;
  t.same((c.list[1] as { deep: string[] }).deep, ['y'], 'nested arrays are copies');
  t.equal(c.bytes[0], 1, 'bytes are copies');
  t.notOk(Object.isFrozen(c.frozen), 'a frozen object comes back as a fresh object');
  t.ok('u' in c, 'an undefined field stays (the wire leaves it out)');
  const nullProto = Object.assign(Object.create(null) as Record<string, unknown>, { k: 1 });
  t.same(copyPlain(nullProto), { k: 1 });
});

t.test('a __proto__ key stays an own key, never a prototype', async (t) => {
  const hostile = JSON.parse('{"__proto__": {"polluted": true}, "ok": 1}') as Record<string, unknown>;
  const c = copyPlain(hostile);
  t.equal(Object.getPrototypeOf(c), Object.prototype);
  t.ok(Object.prototype.hasOwnProperty.call(c, '__proto__'));
  t.equal(({} as Record<string, unknown>).polluted, undefined, 'nothing polluted');
});

t.test('refuses what is not plain data, naming it', async (t) => {
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  const cases: [unknown, RegExp][] = [
    [{ f: () => 1 }, /function/],
    [{ m: new Map() }, /Map/],
    [{ d: new Date(0) }, /Date/],
    [[Symbol('s')], /symbol/],
    [{ n: 10n }, /bigint/],
    [cyclic, new RegExp(`deeper than ${plainCopyDepthMax}`)],
  ];
  for (const [value, why] of cases) t.throws(() => copyPlain(value), { name: NotPlainError.name, message: why });
});
