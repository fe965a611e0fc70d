// Merge laws of every CRDT type, by fast-check (Almeida, Shoker, Baquero 2018: a delta-state
// CRDT is a join-semilattice whose operations' deltas are states joined in):
// - merge is commutative, associative and idempotent (and idempotence returns the same object);
// - merge(state, delta) equals the state after the operation (checked at every operation of
//   every script) and re-merging the delta changes nothing;
// - deltas commute with each other and with full states, delivered in any order;
// - the join of all deltas ever made equals the join of all replicas' states.
// Failing cases print fast-check's seed and path; replay with FC_SEED=… FC_PATH=….
import t from 'tap';
import fc from 'fast-check';
import { runArb } from './script.js';
import { subjects } from './subjects.js';
import type { Subject } from './subjects.js';

const numRuns = Number(process.env['FC_RUNS'] ?? 150);
const replay = process.env['FC_SEED'] === undefined ? {} : { seed: Number(process.env['FC_SEED']), path: process.env['FC_PATH'] };

/** Asserts a property; a failure throws fast-check's report (seed, path, counterexample). */
function check<T>(name: string, prop: fc.IProperty<[T]> | fc.IProperty<[T, number]> | fc.IProperty<[T, number, number]>): string {
  fc.assert(prop as fc.IProperty<unknown[]>, { numRuns, ...replay });
  return name;
}

function lawsOf<S>(pass: (name: string) => void, subject: Subject<S>): void {
  const { merge, equals } = subject;
  const runs = runArb(subject);
  pass(check('delta law at every operation', fc.property(runs, (r) => r.deltaLawFailures === 0)));
  pass(check('commutative', fc.property(runs, ({ states: [a, b] }) => equals(merge(a as S, b as S), merge(b as S, a as S)))));
  pass(check(
    'associative',
    fc.property(runs, ({ states: [a, b, c] }) => equals(merge(merge(a as S, b as S), c as S), merge(a as S, merge(b as S, c as S)))),
  ));
  pass(check(
    'idempotent (and returns the same object)',
    fc.property(runs, ({ states: [a, b] }) => {
      const ab = merge(a as S, b as S);
      return merge(a as S, a as S) === a && merge(ab, b as S) === ab && merge(ab, a as S) === ab;
    }),
  ));
  pass(check(
    'deltas commute with each other and with full states',
    fc.property(runs, fc.nat(), fc.nat(), ({ states: [x, y], deltas }, i, j) => {
      if (deltas.length === 0) return true;
      const di = (deltas[i % deltas.length] as { delta: S }).delta;
      const dj = (deltas[j % deltas.length] as { delta: S }).delta;
      const a = x as S;
      return (
        equals(merge(merge(a, di), dj), merge(merge(a, dj), di)) &&
        equals(merge(merge(a, di), y as S), merge(merge(a, y as S), di)) &&
        equals(merge(a, merge(di, dj)), merge(merge(a, di), dj))
      );
    }),
  ));
  pass(check(
    'the join of all deltas equals the join of all states after a full sync',
    fc.property(runs, fc.integer(), ({ states, deltas }, seed) => {
      const order = deltas.map((d, i) => ({ d, k: (i * 7919 + seed) % 1009 })).sort((p, q) => p.k - q.k);
      const fromDeltas = order.reduce((acc, { d }) => merge(acc, d.delta), subject.empty);
      const fromStates = states.reduce((acc, s) => merge(acc, s), subject.empty);
      return equals(fromDeltas, fromStates);
    }),
  ));
}

for (const subject of subjects) {
  t.test(`${subject.name}: merge laws`, async (t) => lawsOf((name) => t.pass(name), subject));
}
