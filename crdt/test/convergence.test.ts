// yjs-style convergence harness: N replicas of one entity record make random updates (every CRDT
// kind, nested maps, rare deletes) from a seeded PRNG; deltas travel over a network that loses,
// duplicates and reorders them; replicas disconnect (and keep writing), reconnect with a
// full-state exchange, and some clocks are skewed. At the end, after healing, every replica must
// be equal to every other and to the join of every delta ever made (in a shuffled order), byte
// for byte. A failing run prints its seed; replay one with CRDT_SEED=… (and CRDT_STEPS=…).
// Seeds that once failed live in fixtures/convergence-seeds.json and run every time.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { hlc, record } from '@shoal/crdt';
import type { EntityRecord, Hlc } from '@shoal/crdt';
import { Prng } from './prng.js';
import { Vm } from './subjects.js';
import type { VmFields } from './subjects.js';

type Rec = EntityRecord<VmFields>;

interface Replica {
  state: Rec;
  clock: Hlc;
  readonly skewMs: number;
  connected: boolean;
}

interface Message {
  readonly to: number;
  readonly delta: Rec | Uint8Array;
  readonly clock: Hlc;
}

export interface SimOptions {
  readonly replicas: number;
  readonly steps: number;
  readonly lossP: number;
  readonly dupP: number;
}

const defaults: SimOptions = { replicas: 5, steps: 250, lossP: 0.15, dupP: 0.05 };
const elems = ['a', 'b', 'c', 'd'];

/** One random field operation (or a delete, when this seed allows them). */
function randomOp(p: Prng, deletes: boolean): unknown {
  if (deletes && p.chance(0.004)) return 'delete';
  switch (p.int(8)) {
    case 0:
      return { name: { set: p.pick(['web', 'db', 'cache']) } };
    case 1:
      return { ram: { set: p.pick([256, 512, 1024]) } };
    case 2:
      return p.chance(0.6) ? { tags: { add: [p.pick(elems)] } } : { tags: { remove: [p.pick(elems)] } };
    case 3:
      return { owners: p.chance(0.7) ? { add: [p.pick(elems)] } : { remove: [p.pick(elems)] } };
    case 4:
      return { notes: { set: p.chance(0.5) ? p.pick(['x', 'y']) : { n: p.int(3) } } };
    case 5:
      return { boots: { inc: p.int(7) - 3 } };
    case 6: {
      const nic = p.pick(['eth0', 'eth1']);
      return p.chance(0.5)
        ? { nics: { update: { [nic]: { update: { ip: { set: `10.0.0.${p.int(4)}` } } } } } }
        : { nics: { update: { [nic]: { update: { vlans: p.chance(0.6) ? { add: [p.pick(elems)] } : { remove: [p.pick(elems)] } } } } } };
    }
    default:
      return { nics: { remove: [p.pick(['eth0', 'eth1'])] } };
  }
}

function applyOp(r: Replica, op: unknown, nowMs: number): Rec | undefined {
  r.clock = hlc.tick(r.clock, nowMs + r.skewMs);
  const ctx = { stamp: r.clock };
  if (op === 'delete') {
    const d = record.deleteRecord(r.state, ctx);
    r.state = d.record;
    return d.delta;
  }
  if (record.isDeleted(r.state)) return undefined; // the API would answer RecordDeletedError
  const u = record.applyUpdate(r.state, op as never, ctx);
  r.state = u.record;
  return u.delta;
}

function receive(r: Replica, m: Message, nowMs: number, stats: { drift: number }): void {
  const got = hlc.receive(r.clock, m.clock, nowMs + r.skewMs);
  if (got.ok) r.clock = got.clock;
  else stats.drift++; // the data still merges; only the clock refuses to follow a broken peer
  const delta = m.delta instanceof Uint8Array ? record.decode(Vm, m.delta) : { ok: true as const, value: m.delta };
  if (!delta.ok) throw new Error(`a delta we encoded did not decode: ${delta.error.message}`);
  r.state = record.merge(r.state, delta.value);
}

/** Checks a replica's state against its own encoding (decoders validate every invariant). */
function checkInvariants(r: Replica): string | undefined {
  const back = record.decode(Vm, record.encode(r.state));
  if (!back.ok) return `state does not decode: ${back.error.message}`;
  return record.equals(back.value, r.state) ? undefined : 'state does not round-trip';
}

export function simulate(seed: number, o: SimOptions = defaults): { ok: true; drift: number; deltas: number } | { ok: false; why: string } {
  const p = new Prng(seed);
  const deletes = p.chance(0.2);
  const replicas: Replica[] = Array.from({ length: o.replicas }, (_, i) => ({
    state: record.empty(Vm),
    clock: hlc.hlcZero(`core-${i}`),
    skewMs: i === o.replicas - 1 && p.chance(0.1) ? 90_000 : p.int(401) - 200,
    connected: true,
  }));
  const inflight: Message[] = [];
  const allDeltas: Rec[] = [];
  const stats = { drift: 0 };
  let nowMs = 1_700_000_000_000;
  const send = (from: number, delta: Rec): void => {
    for (let to = 0; to < o.replicas; to++) {
      if (to === from || p.chance(o.lossP)) continue;
      const m = { to, delta: p.chance(0.3) ? record.encode(delta) : delta, clock: (replicas[from] as Replica).clock };
      inflight.push(m);
      if (p.chance(o.dupP)) inflight.push(m);
    }
  };
  for (let step = 0; step < o.steps; step++) {
    nowMs += p.int(6);
    const roll = p.int(100);
    if (roll < 45) {
      const from = p.int(o.replicas);
      const delta = applyOp(replicas[from] as Replica, randomOp(p, deletes), nowMs);
      if (delta === undefined) continue;
      allDeltas.push(delta);
      if ((replicas[from] as Replica).connected) send(from, delta);
    } else if (roll < 82) {
      if (inflight.length === 0) continue;
      const m = inflight.splice(p.int(inflight.length), 1)[0] as Message;
      const to = replicas[m.to] as Replica;
      if (to.connected) receive(to, m, nowMs, stats);
    } else if (roll < 89) {
      p.pick(replicas).connected = false;
    } else if (roll < 96) {
      const r = p.pick(replicas);
      const peer = p.pick(replicas);
      r.connected = true;
      if (peer.connected) {
        r.state = record.merge(r.state, peer.state);
        peer.state = record.merge(peer.state, r.state);
      }
    } else {
      const a = p.pick(replicas);
      const b = p.pick(replicas);
      if (a.connected && b.connected) a.state = record.merge(a.state, b.state);
    }
    if (step % 25 === 0) {
      for (const r of replicas) {
        const why = checkInvariants(r);
        if (why !== undefined) return { ok: false, why: `step ${step}: ${why}` };
      }
    }
  }
  return finish(p, replicas, inflight, allDeltas, stats, nowMs);
}

function finish(p: Prng, replicas: Replica[], inflight: Message[], allDeltas: Rec[], stats: { drift: number }, nowMs: number): { ok: true; drift: number; deltas: number } | { ok: false; why: string } {
  for (const r of replicas) r.connected = true;
  for (const m of p.shuffle(inflight)) if (!p.chance(0.2)) receive(replicas[m.to] as Replica, m, nowMs, stats);
  // Anti-entropy: two rounds of full-state merges reach everyone.
  for (let round = 0; round < 2; round++) {
    for (const a of replicas) for (const b of replicas) a.state = record.merge(a.state, b.state);
  }
  const joined = p.shuffle(allDeltas).reduce((acc, d) => record.merge(acc, d), record.empty(Vm));
  const want = Buffer.from(record.encode(joined)).toString('hex');
  for (let i = 0; i < replicas.length; i++) {
    const r = replicas[i] as Replica;
    if (!record.equals(r.state, joined)) return { ok: false, why: `replica ${i} differs from the join of all deltas` };
    if (Buffer.from(record.encode(r.state)).toString('hex') !== want) return { ok: false, why: `replica ${i} encodes differently` };
    if (JSON.stringify(record.toPlain(r.state)) !== JSON.stringify(record.toPlain(joined))) return { ok: false, why: `replica ${i} shows a different value` };
    const why = checkInvariants(r);
    if (why !== undefined) return { ok: false, why: `end: ${why}` };
  }
  return { ok: true, drift: stats.drift, deltas: allDeltas.length };
}

const fixtures = JSON.parse(readFileSync(new URL('../../test/fixtures/convergence-seeds.json', import.meta.url), 'utf8')) as { seeds: number[] };
const only = process.env['CRDT_SEED'];
const steps = Number(process.env['CRDT_STEPS'] ?? defaults.steps);
const seedCount = Number(process.env['CRDT_SEEDS'] ?? 300);
const seeds = only !== undefined ? [Number(only)] : [...fixtures.seeds, ...Array.from({ length: seedCount }, (_, i) => 1000 + i)];

t.test(`convergence: ${seeds.length} seeds × ${steps} steps, ${defaults.replicas} replicas`, async (t) => {
  const started = Date.now();
  let failures = 0;
  let drift = 0;
  let deltas = 0;
  for (const seed of seeds) {
    let r: ReturnType<typeof simulate>;
    try {
      r = simulate(seed, { ...defaults, steps });
    } catch (e) {
      r = { ok: false, why: `threw ${e instanceof Error ? (e.stack ?? e.message) : String(e)}` };
    }
    if (!r.ok) {
      failures++;
      t.fail(`seed=${seed}: ${r.why} (replay: CRDT_SEED=${seed} npx tap crdt/dist/test/convergence.test.js)`);
      if (failures >= 5) break;
    } else {
      drift += r.drift;
      deltas += r.deltas;
    }
  }
  if (failures === 0) t.pass(`all ${seeds.length} seeds converged`);
  t.comment(`${deltas} deltas, ${drift} clock readings refused for drift, ${Date.now() - started} ms`);
});
