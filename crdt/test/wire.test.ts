// Encodings: every state and delta round-trips (through plain values and through msgpack bytes)
// and re-encodes identically; `fromWire` of arbitrary garbage, and of valid encodings with one
// random mutation, never throws — it answers a value (which then round-trips) or a CrdtWireError.
import t from 'tap';
import fc from 'fast-check';
import { CrdtWireError, decodeWire, encodeWire, record } from '@shoal/crdt';
import { runArb } from './script.js';
import { subjects, Vm } from './subjects.js';
import type { Subject } from './subjects.js';

const numRuns = Number(process.env['FC_RUNS'] ?? 150);

function roundTrips<S>(subject: Subject<S>, s: S): boolean {
  const w = subject.toWire(s);
  const back = subject.fromWire(w);
  if (!back.ok || !subject.equals(back.value, s)) return false;
  const bytes = decodeWire(encodeWire(w));
  if (!bytes.ok) return false;
  const viaBytes = subject.fromWire(bytes.value);
  return viaBytes.ok && subject.equals(viaBytes.value, s) && JSON.stringify(subject.toWire(viaBytes.value)) === JSON.stringify(w);
}

/** Never throws; an accepted value must itself round-trip (decoders accept only canonical states). */
function safelyDecodes<S>(subject: Subject<S>, w: unknown): boolean {
  const r = subject.fromWire(w);
  if (!r.ok) return r.error instanceof CrdtWireError && r.error.message.length > 0;
  return roundTrips(subject, r.value);
}

type Mutation = { readonly at: number; readonly kind: number; readonly junk: unknown };

/** Applies one mutation to a copy of a JSON-like tree: at the `at`-th node (pre-order), `kind` picks what. */
function mutate(w: unknown, m: Mutation): unknown {
  let n = 0;
  const walk = (x: unknown): unknown => {
    const here = n++ === m.at;
    if (here) {
      switch (m.kind % 5) {
        case 0:
          return m.junk;
        case 1:
          return typeof x === 'number' ? x + 1 : typeof x === 'string' ? `${x}~` : m.junk;
        case 2:
          return Array.isArray(x) ? x.slice(1) : null;
        case 3:
          return Array.isArray(x) && x.length > 0 ? [...x, x[0]] : [x];
        default:
          return Array.isArray(x) ? [...x].reverse() : -1;
      }
    }
    return Array.isArray(x) ? x.map(walk) : x;
  };
  return walk(w);
}

const mutationArb = fc.record({ at: fc.nat({ max: 60 }), kind: fc.nat(), junk: fc.anything({ maxDepth: 2 }) });

for (const subject of subjects) {
  t.test(`${subject.name}: encodings`, async (t) => {
    const runs = runArb(subject);
    fc.assert(fc.property(runs, (r) => r.states.every((s) => roundTrips(subject, s)) && r.deltas.every((d) => roundTrips(subject, d.delta))), { numRuns });
    t.pass('states and deltas round-trip, through bytes too, and re-encode identically');
    fc.assert(fc.property(fc.anything({ maxDepth: 4, withMap: true, withSet: true, withTypedArray: true, withNullPrototype: true }), (w) => safelyDecodes(subject, w)), { numRuns: numRuns * 4 });
    t.pass('fromWire of arbitrary values never throws');
    fc.assert(fc.property(runs, mutationArb, (r, m) => r.states.every((s) => safelyDecodes(subject, mutate(subject.toWire(s), m)))), { numRuns: numRuns * 2 });
    t.pass('fromWire of mutated encodings never throws, and what it accepts round-trips');
  });
}

t.test('bytes: garbage never throws', async (t) => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
      const r = record.decode(Vm, bytes);
      if (!r.ok) return r.error instanceof CrdtWireError;
      const again = record.decode(Vm, record.encode(r.value));
      return again.ok && record.equals(again.value, r.value);
    }),
    { numRuns: 2000 },
  );
  t.pass('record.decode of random bytes');
  const big = new Uint8Array(2 * 1024 * 1024);
  const r = decodeWire(big);
  t.equal(r.ok, false, 'more than wireBytesMax is refused');
  if (!r.ok) t.match(r.error.message, /more than/);
  t.equal(decodeWire(new Uint8Array()).ok, false, 'no bytes');
  t.equal(decodeWire('x' as unknown as Uint8Array).ok, false, 'not bytes');
  let deep: unknown = [];
  for (let i = 0; i < 100_000; i++) deep = [deep];
  for (const subject of subjects) t.equal(subject.fromWire(deep).ok, false, `${subject.name}: 100,000 nested arrays are refused, not thrown`);
});
