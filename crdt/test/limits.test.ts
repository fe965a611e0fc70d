// Limits (limits.ts): operations that would pass one throw a named error; decoders accept the
// slack that concurrent merges can create, and refuse more.
import t from 'tap';
import { CrdtLimitError, CrdtValueError, causal, crdtLimits, hlc, kind, lww, mvreg, orswot, ormap, pncounter } from '@shoal/crdt';
import type { Orswot } from '@shoal/crdt';

const stamp = { wallMs: 1, counter: 0, node: 'A' };

function setOf(n: number, node: string, prefix = 'e'): Orswot {
  let s = orswot.empty;
  for (let i = 0; i < n; i++) s = orswot.add(s, `${prefix}${i}`, node).state;
  return s;
}

t.test('orswot elements', async (t) => {
  const full = setOf(crdtLimits.setElementsMax, 'A');
  t.throws(() => orswot.add(full, 'one-more', 'A'), CrdtLimitError, 'adding past setElementsMax');
  t.ok(orswot.add(full, 'e0', 'A'), 're-adding an element at the limit is fine');
  const other = setOf(crdtLimits.setElementsMax, 'B', 'f');
  const merged = orswot.merge(full, other);
  t.equal(orswot.size(merged), 2 * crdtLimits.setElementsMax, 'merges never refuse');
  const back = orswot.fromWire(orswot.toWire(merged));
  t.ok(back.ok, 'and the merged state still decodes (wireSlack)');
  const tooMany = [[['A', 4 * crdtLimits.setElementsMax + 1]], Array.from({ length: 4 * crdtLimits.setElementsMax + 1 }, (_, i) => [`e${String(i).padStart(5, '0')}`, 'A', i + 1])];
  t.equal(orswot.fromWire(tooMany).ok, false, 'past the slack is refused');
});

t.test('strings and values', async (t) => {
  t.throws(() => orswot.add(orswot.empty, 'x'.repeat(crdtLimits.keyBytesMax + 1), 'A'), CrdtValueError, 'element too long');
  t.throws(() => orswot.add(orswot.empty, 'é'.repeat(crdtLimits.keyBytesMax / 2 + 1), 'A'), CrdtValueError, 'bytes, not characters');
  t.ok(orswot.add(orswot.empty, 'é'.repeat(crdtLimits.keyBytesMax / 2), 'A'));
  t.throws(() => orswot.add(orswot.empty, 'a\uD800', 'A'), CrdtValueError, 'lone surrogate');
  t.throws(() => orswot.add(orswot.empty, 'x', ''), CrdtValueError, 'empty node id');
  t.throws(() => orswot.add(orswot.empty, 'x', 'n'.repeat(crdtLimits.nodeIdBytesMax + 1)), CrdtValueError, 'node id too long');
  t.throws(() => lww.set(lww.empty, 'x'.repeat(crdtLimits.stringBytesMax + 1), stamp, 'string'), CrdtValueError, 'string value too long');
  t.throws(() => lww.set(lww.empty, Number.NaN, stamp, 'number'), CrdtValueError, 'NaN');
  t.throws(() => lww.set(lww.empty, 1.5, stamp, 'integer'), CrdtValueError, 'not an integer');
  let deep: unknown = 1;
  for (let i = 0; i <= crdtLimits.valueDepthMax; i++) deep = [deep];
  t.throws(() => lww.set(lww.empty, deep as never, stamp), CrdtValueError, 'value nested too deep');
  t.throws(() => mvreg.set(mvreg.empty, Array.from({ length: crdtLimits.valueElementsMax }, () => 0), 'A'), CrdtValueError, 'too many elements');
  t.throws(() => lww.set(lww.empty, JSON.parse('{"__proto__": 1}') as never, stamp), CrdtValueError, '__proto__ key');
  t.throws(() => lww.set(lww.empty, new Date(0) as never, stamp), CrdtValueError, 'not a plain object');
  t.throws(() => lww.set(lww.empty, { a: undefined } as never, stamp), CrdtValueError, 'undefined');
  t.throws(() => lww.set(lww.empty, 'x', { ...stamp, counter: hlc.hlcCounterMax + 1 }), CrdtValueError, 'bad stamp');
});

t.test('writers, counters and map keys', async (t) => {
  let s = orswot.empty;
  for (let i = 0; i < crdtLimits.nodesMax; i++) s = orswot.add(s, 'x', `n${i}`).state;
  t.equal(causal.ccNodeCount(s.cc), crdtLimits.nodesMax);
  t.throws(() => orswot.add(s, 'x', 'one-more'), CrdtLimitError, 'a context names at most nodesMax writers');
  let c = pncounter.empty;
  for (let i = 0; i < crdtLimits.nodesMax; i++) c = pncounter.increment(c, `n${i}`, 1).state;
  t.throws(() => pncounter.increment(c, 'one-more', 1), CrdtLimitError, 'a counter names at most nodesMax writers');
  const big = pncounter.increment(pncounter.empty, 'A', crdtLimits.counterPartMax).state;
  t.throws(() => pncounter.increment(big, 'A', 1), CrdtLimitError, 'counterPartMax');
  t.throws(() => pncounter.increment(big, 'A', 0.5), CrdtValueError, 'amounts are integers');
  const k = kind.ormap(kind.lww('integer'));
  let m = ormap.empty(k);
  const update = Object.fromEntries(Array.from({ length: crdtLimits.mapKeysMax }, (_, i) => [`k${i}`, { set: i }]));
  m = ormap.apply(m, { update }, { stamp }).state;
  t.equal(ormap.keys(m).length, crdtLimits.mapKeysMax);
  t.throws(() => ormap.update(m, 'one-more', { set: 1 }, { stamp }), CrdtLimitError, 'mapKeysMax');
  t.ok(ormap.update(m, 'k0', { set: 7 }, { stamp: { ...stamp, wallMs: 2 } }), 'updating an existing key at the limit is fine');
});
