// Hybrid logical clock: table tests of tick and receive (Kulkarni et al. 2014's cases), the
// drift bound, counter overflow, `after`, the total order, and monotonicity under random events.
import t from 'tap';
import fc from 'fast-check';
import { CrdtValueError, hlc } from '@shoal/crdt';
import type { Hlc } from '@shoal/crdt';

const at = (wallMs: number, counter: number, node = 'a'): Hlc => ({ wallMs, counter, node });

t.test('tick', async (t) => {
  const rows: [string, Hlc, number, Hlc][] = [
    ['wall time moved on: adopt it, counter 0', at(100, 5), 120, at(120, 0)],
    ['same wall time: counter + 1', at(100, 5), 100, at(100, 6)],
    ['wall time went backwards: keep ours, counter + 1', at(100, 5), 90, at(100, 6)],
    ['from zero', hlc.hlcZero('a'), 0, at(0, 1)],
    ['counter overflow: wall + 1, counter 0', at(100, hlc.hlcCounterMax), 100, at(101, 0)],
  ];
  for (const [name, prev, now, want] of rows) t.same(hlc.tick(prev, now), want, name);
  t.throws(() => hlc.tick(at(1, 0), -1), CrdtValueError, 'negative wall time');
  t.throws(() => hlc.tick(at(1, 0), 1.5), CrdtValueError, 'fractional wall time');
});

t.test('receive', async (t) => {
  const rows: [string, Hlc, Hlc, number, Hlc][] = [
    ['physical time is ahead of both: counter 0', at(100, 3), at(110, 7, 'b'), 200, at(200, 0)],
    ['remote ahead: follow its counter + 1', at(100, 3), at(150, 7, 'b'), 120, at(150, 8)],
    ['local ahead: our counter + 1', at(150, 3), at(100, 7, 'b'), 120, at(150, 4)],
    ['equal walls: max counter + 1', at(150, 3), at(150, 7, 'b'), 120, at(150, 8)],
    ['equal walls, ours larger', at(150, 9), at(150, 7, 'b'), 150, at(150, 10)],
    ['overflow on receive', at(150, 1), at(150, hlc.hlcCounterMax, 'b'), 150, at(151, 0)],
  ];
  for (const [name, local, remote, now, want] of rows) {
    const r = hlc.receive(local, remote, now);
    t.ok(r.ok, name);
    if (r.ok) t.same(r.clock, want, name);
  }
});

t.test('drift bound', async (t) => {
  const local = at(1000, 0);
  const ok = hlc.receive(local, at(1000 + 60_000, 0, 'b'), 1000);
  t.ok(ok.ok, 'exactly driftMsMax ahead is accepted');
  const far = hlc.receive(local, at(1000 + 60_001, 0, 'b'), 1000);
  t.same(far, { ok: false, reason: 'drift', aheadMs: 60_001, clock: local }, 'one ms more is refused and the clock is unchanged');
  const tight = hlc.receive(local, at(1500, 0, 'b'), 1000, 100);
  t.equal(tight.ok, false, 'custom driftMsMax');
  t.ok(hlc.receive(local, at(5, 0, 'b'), 1000).ok, 'a remote clock far behind is fine');
});

t.test('order and after()', async (t) => {
  t.ok(hlc.hlcCompare(at(1, 9), at(2, 0)) < 0, 'wall first');
  t.ok(hlc.hlcCompare(at(2, 1), at(2, 0)) > 0, 'then counter');
  t.ok(hlc.hlcCompare(at(2, 1, 'a'), at(2, 1, 'b')) < 0, 'then node: no ties between writers');
  t.equal(hlc.hlcCompare(at(2, 1, 'a'), at(2, 1, 'a')), 0);
  t.same(hlc.after(at(200, 0, 'a'), at(100, 5, 'b')), at(200, 0, 'a'), 'already later: unchanged');
  t.same(hlc.after(at(50, 0, 'a'), at(100, 5, 'b')), at(100, 6, 'a'), 'behind: just after what it overwrites');
  t.same(hlc.after(at(50, 0, 'a'), at(100, hlc.hlcCounterMax, 'b')), at(101, 0, 'a'), 'behind at the counter limit');
  t.same(hlc.after(at(50, 0, 'a'), undefined), at(50, 0, 'a'), 'nothing observed');
  t.same(hlc.hlcToWire(at(7, 1, 'n')), [7, 1, 'n']);
  t.same(hlc.hlcFromWire([7, 1, 'n']), { ok: true, value: at(7, 1, 'n') });
  for (const bad of [[7, 1], [-1, 0, 'n'], [1, 70_000, 'n'], [1, 0, ''], 'x', null, [1.5, 0, 'n']]) t.equal(hlc.hlcFromWire(bad).ok, false, `refuses ${JSON.stringify(bad)}`);
});

t.test('monotonic under any sequence of events', async (t) => {
  const event = fc.oneof(
    fc.record({ kind: fc.constant('tick' as const), now: fc.nat({ max: 1000 }) }),
    fc.record({ kind: fc.constant('recv' as const), now: fc.nat({ max: 1000 }), wall: fc.nat({ max: 1200 }), counter: fc.nat({ max: hlc.hlcCounterMax }) }),
  );
  fc.assert(
    fc.property(fc.array(event, { maxLength: 50 }), (events) => {
      let clock = hlc.hlcZero('a');
      for (const e of events) {
        const next =
          e.kind === 'tick' ? hlc.tick(clock, e.now) : ((r) => r.clock)(hlc.receive(clock, at(e.wall, e.counter, 'b'), e.now, 100));
        if (hlc.hlcCompare(next, clock) <= 0 && !(e.kind === 'recv' && e.wall - e.now > 100)) return false;
        if (e.kind === 'tick' && next.wallMs < e.now) return false;
        if (e.kind === 'recv' && e.wall - e.now <= 100 && hlc.hlcCompare(next, at(e.wall, e.counter, 'b')) <= 0) return false;
        clock = next;
      }
      return true;
    }),
    { numRuns: 500 },
  );
  t.pass('strictly increasing on every accepted event, ≥ wall time, > every accepted remote stamp');
});
