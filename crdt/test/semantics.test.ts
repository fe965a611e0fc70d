// What each CRDT means, scenario by scenario: add wins, observed remove, delta removal arriving
// before the add it cancels, multi-value concurrency, LWW with a lagging clock, OR-map remove
// against a concurrent update, causal-context compaction.
import t from 'tap';
import { causal, kind, lww, mvreg, orswot, ormap, pncounter } from '@shoal/crdt';
import type { Hlc, Orswot } from '@shoal/crdt';

const stamp = (wallMs: number, node: string, counter = 0): { stamp: Hlc } => ({ stamp: { wallMs, counter, node } });

t.test('orswot: add wins over a concurrent remove', async (t) => {
  const a1 = orswot.add(orswot.empty, 'x', 'A');
  const b = orswot.merge(orswot.empty, a1.delta);
  const removed = orswot.remove(b, 'x');
  const readded = orswot.add(a1.state, 'x', 'A');
  const merged = orswot.merge(removed.state, readded.delta);
  t.same(orswot.value(merged), ['x'], 'the re-add the remover had not seen survives');
  t.same(orswot.value(orswot.merge(readded.state, removed.delta)), ['x'], 'in either order');
  const onlyObserved = orswot.merge(a1.state, removed.delta);
  t.same(orswot.value(onlyObserved), [], 'the remove drops what it observed');
});

t.test('orswot: a remove delta that arrives before its add', async (t) => {
  const add = orswot.add(orswot.empty, 'x', 'A');
  const atB = orswot.merge(orswot.empty, add.delta);
  const rm = orswot.remove(atB, 'x');
  t.same(orswot.value(rm.delta), [], 'the remove delta has no elements');
  t.same([...causal.ccDots(rm.delta.cc)], [{ node: 'A', counter: 1 }], 'only a context naming the removed dot');
  let c: Orswot = orswot.merge(orswot.empty, rm.delta);
  t.ok(causal.ccHas(c.cc, 'A', 1), 'C remembers the removed dot');
  c = orswot.merge(c, add.delta);
  t.same(orswot.value(c), [], 'so the late add is ignored');
  t.ok(orswot.equals(c, rm.state), 'C converged with B');
});

t.test('orswot: out-of-order deltas leave a cloud that compacts', async (t) => {
  let a = orswot.empty;
  const deltas = [];
  for (const e of ['p', 'q', 'r']) {
    const r = orswot.add(a, e, 'A');
    a = r.state;
    deltas.push(r.delta);
  }
  let c = orswot.merge(orswot.empty, deltas[2] as Orswot);
  t.same([...c.cc.cloud.entries()], [['A', [3]]], 'dot 3 waits in the cloud');
  c = orswot.merge(c, deltas[0] as Orswot);
  t.same([...c.cc.vv.entries()], [['A', 1]]);
  c = orswot.merge(c, deltas[1] as Orswot);
  t.same([...c.cc.vv.entries()], [['A', 3]], 'the gap filled: all in the version vector');
  t.equal(c.cc.cloud.size, 0, 'and the cloud is empty');
  t.ok(orswot.equals(c, a));
});

t.test('orswot: re-adding replaces the element\'s older dots', async (t) => {
  let s = orswot.add(orswot.empty, 'x', 'A').state;
  s = orswot.add(s, 'x', 'A').state;
  s = orswot.add(s, 'x', 'B').state;
  t.same(s.store.get('x'), [{ node: 'B', counter: 1 }], 'one live dot');
  t.equal(orswot.size(s), 1);
  t.ok(orswot.has(s, 'x'));
  const noop = orswot.remove(s, 'absent');
  t.equal(noop.state, s, 'removing an absent element changes nothing (same object)');
});

t.test('mvreg: concurrent writes are all kept until a later write', async (t) => {
  const a = mvreg.set(mvreg.empty, 'red', 'A');
  const b = mvreg.set(mvreg.empty, 'blue', 'B');
  const both = mvreg.merge(a.state, b.state);
  t.same(mvreg.value(both), ['red', 'blue'], 'both values, in dot order');
  const c = mvreg.set(both, 'green', 'C');
  t.same(mvreg.value(c.state), ['green'], 'a write that saw both replaces both');
  t.same(mvreg.value(mvreg.merge(both, c.delta)), ['green'], 'also as a delta');
  const same = mvreg.merge(mvreg.set(mvreg.empty, 'x', 'A').state, mvreg.set(mvreg.empty, 'x', 'B').state);
  t.same(mvreg.value(same), ['x'], 'equal concurrent values show once');
});

t.test('lww: the later stamp wins; a lagging writer still overwrites what it saw', async (t) => {
  const a = lww.set(lww.empty, 'one', stamp(100, 'A').stamp);
  const b = lww.set(lww.empty, 'two', stamp(100, 'B').stamp);
  t.equal(lww.value(lww.merge(a.state, b.state)), 'two', 'equal wall and counter: node id decides');
  t.equal(lww.value(lww.merge(b.state, a.state)), 'two');
  const lagging = lww.set(a.state, 'three', stamp(50, 'C').stamp);
  t.equal(lww.value(lagging.state), 'three', 'written after what it overwrote');
  t.same(lagging.state?.stamp, { wallMs: 100, counter: 1, node: 'C' });
  t.equal(lww.value(lww.merge(a.state, lagging.delta)), 'three');
  const forged = { stamp: { wallMs: 100, counter: 0, node: 'A' }, value: 'zzz' };
  t.equal(lww.value(lww.merge(a.state, forged)), lww.value(lww.merge(forged, a.state)), 'equal stamps (a bug or a forgery) still merge the same both ways');
});

t.test('pncounter', async (t) => {
  let a = pncounter.increment(pncounter.empty, 'A', 5).state;
  a = pncounter.increment(a, 'A', -2).state;
  const b = pncounter.increment(pncounter.empty, 'B', 10);
  t.equal(pncounter.value(pncounter.merge(a, b.delta)), 13);
  t.same([...b.delta.entries()], [['B', { p: 10, n: 0 }]], 'the delta is one writer');
  t.equal(pncounter.increment(a, 'A', 0).state, a, 'adding 0 changes nothing');
});

t.test('ormap: remove resets the value; a concurrent update survives (add wins)', async (t) => {
  const k = kind.ormap(kind.orswot());
  let a = ormap.update(ormap.empty(k), 'k', { add: ['old'] }, stamp(1, 'A')).state;
  const b0 = ormap.merge(ormap.empty(k), a);
  const rm = ormap.remove(b0, 'k');
  const up = ormap.update(a, 'k', { add: ['new'] }, stamp(2, 'A'));
  a = up.state;
  const merged = ormap.merge(rm.state, up.delta);
  t.same(ormap.value(merged), { k: ['new'] }, 'only what the remover had not seen');
  t.same(ormap.value(ormap.merge(a, rm.delta)), { k: ['new'] }, 'in either order');
  const emptied = ormap.apply(merged, { update: { k: { remove: ['new'] } } }, stamp(3, 'B'));
  t.same(ormap.value(emptied.state), {}, 'a key whose value lost its last dot disappears');
  t.same(ormap.get(up.state, 'k'), ['new', 'old'], 'elements sorted');
  t.same(ormap.keys(up.state), ['k']);
});

t.test('ormap: nested deltas carry only what changed', async (t) => {
  const k = kind.ormap(kind.struct({ ip: kind.lww('string'), vlans: kind.orswot() }));
  const s = ormap.apply(ormap.empty(k), { update: { eth0: { update: { ip: { set: '10.0.0.1' } } }, eth1: { update: { vlans: { add: ['v1'] } } } } }, stamp(1, 'A')).state;
  const d = ormap.apply(s, { update: { eth1: { update: { vlans: { add: ['v2'] } } } } }, stamp(2, 'A')).delta;
  t.same(ormap.value(d), { eth1: { vlans: ['v2'] } }, 'the delta holds one key, one field, one element');
  t.same(ormap.toWire(d), [[['A', 0, 3]], [['eth1', [['vlans', [['v2', 'A', 3]]]]]]]);
});

t.test('ormap: a counter incremented concurrently with its removal comes back as the incrementer saw it', async (t) => {
  // Documented in store.ts (Almeida et al.'s causal counter behaves the same way).
  const k = kind.ormap(kind.pncounter());
  const a = ormap.update(ormap.empty(k), 'n', { inc: 5 }, stamp(1, 'A')).state;
  const rm = ormap.remove(a, 'n');
  const inc = ormap.update(a, 'n', { inc: 1 }, stamp(2, 'B'));
  t.same(ormap.value(ormap.merge(rm.state, inc.delta)), { n: 6 });
  const sequential = ormap.update(rm.state, 'n', { inc: 1 }, stamp(3, 'B'));
  t.same(ormap.value(sequential.state), { n: 1 }, 'an increment after the removal starts from zero');
});

t.test('causal contexts', async (t) => {
  const cc = causal.ccFromDots([
    { node: 'A', counter: 3 },
    { node: 'A', counter: 1 },
    { node: 'A', counter: 2 },
    { node: 'B', counter: 5 },
    { node: 'A', counter: 2 },
  ]);
  t.same(causal.ccToWire(cc), [['A', 3], ['B', 0, 5]], 'compacted, canonical');
  t.same(causal.ccNext(cc, 'B'), { node: 'B', counter: 6 }, 'next dot is past the cloud');
  t.same(causal.ccNext(cc, 'C'), { node: 'C', counter: 1 });
  const joined = causal.ccJoin(cc, causal.ccFromDots([1, 2, 3, 4].map((c) => ({ node: 'B', counter: c }))));
  t.same(causal.ccToWire(joined), [['A', 3], ['B', 5]], 'B 1..4 fill the gap below 5');
  t.equal(causal.ccJoin(joined, cc), joined, 'joining what is known returns the same object');
});
