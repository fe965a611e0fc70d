/**
 * The store benchmark's baselines, measured in the same run as the cluster figures:
 *
 * - raw LMDB in this process (the `lmdb` package with the runtime's settings: one environment,
 *   a named database, no compression; a put resolves when its commit is durable), values of the
 *   size the ring stores, keys shaped like the ring's `[partition, bucket, key]`:
 *   puts pipelined (every put issued, then all awaited: lmdb batches them into few commits),
 *   puts from 64 callers that each await their put (what one durable write per caller costs),
 *   and synchronous gets of random keys;
 * - the CRDT merge rate: a delta (one field set, a tag added, a counter bumped) merged into a VM
 *   record of realistic shape (LWW registers, an OR-set of tags, an OR-map of NICs, a counter),
 *   on one core;
 * - Automerge: `A.change` setting one field of one small live document (a scalar string, as an
 *   LWW register would hold it), changes per second.
 */
import * as A from '@automerge/automerge';
import { defineRecord, kind, record, type EntityRecord, type Hlc } from '@shoal/crdt';
import { open, type Key as LmdbKey } from 'lmdb';
import { seededRandom } from '@shoal/runtime';
import { percentile } from './report.js';

export interface LmdbFigures {
  putsPipelined: number;
  putsAwaited: number;
  /** Latency of one awaited put among `callers`, ms. */
  putP50Ms: number;
  putP99Ms: number;
  /** CPU time of this process (all threads) per awaited put, µs. */
  putCpuMicros: number;
  gets: number;
}

/** Raw LMDB put/get at `valueBytes` per value (module header). */
export async function rawLmdb(dir: string, count: number, callers: number, valueBytes: number): Promise<LmdbFigures> {
  const root = open({ path: dir, compression: false, maxDbs: 64 });
  try {
    const db = root.openDB<Uint8Array, LmdbKey>({ name: 'ring.data' });
    const value = new Uint8Array(valueBytes).fill(0x61);
    const keyOf = (phase: string, i: number): LmdbKey => [i % 64, 'bench', `${phase}-${i.toString(16).padStart(8, '0')}-7c2e-4b1a-9f3d-0242ac120002`];
    let t0 = performance.now();
    const puts: Promise<boolean>[] = [];
    for (let i = 0; i < count; i++) puts.push(db.put(keyOf('a', i), value));
    await Promise.all(puts);
    const putsPipelined = count / ((performance.now() - t0) / 1000);

    let next = 0;
    const latencies: number[] = [];
    const cpu0 = process.cpuUsage();
    t0 = performance.now();
    await Promise.all(
      Array.from({ length: callers }, async () => {
        while (next < count) {
          const t = performance.now();
          await db.put(keyOf('b', next++), value);
          latencies.push(performance.now() - t);
        }
      }),
    );
    const putsAwaited = count / ((performance.now() - t0) / 1000);
    const cpu = process.cpuUsage(cpu0);
    latencies.sort((a, b) => a - b);

    const random = seededRandom(11);
    const order = Array.from({ length: count }, () => keyOf('a', random.int(count)));
    let found = 0;
    t0 = performance.now();
    for (const k of order) if (db.get(k) !== undefined) found++;
    const gets = count / ((performance.now() - t0) / 1000);
    if (found !== count) throw new Error(`raw LMDB: ${count - found} of ${count} keys not found`);
    return { putsPipelined, putsAwaited, putP50Ms: percentile(latencies, 0.5), putP99Ms: percentile(latencies, 0.99), putCpuMicros: (cpu.user + cpu.system) / count, gets };
  } finally {
    await root.close();
  }
}

/** A VM record as the domain will hold it: ~11 fields of every CRDT kind. */
const VmRecord = defineRecord('vm', {
  alias: kind.lww('string'),
  state: kind.lww('string'),
  ram: kind.lww('integer'),
  cpuCap: kind.lww('integer'),
  hypervisor: kind.lww('string'),
  package: kind.lww('string'),
  owner: kind.lww('string'),
  created: kind.lww('integer'),
  tags: kind.orswot(),
  nics: kind.ormap(kind.struct({ ip: kind.lww('string'), mac: kind.lww('string') })),
  boots: kind.pncounter(),
});
type Vm = EntityRecord<typeof VmRecord.fields>;

const coordinators = ['n1/3.1', 'n2/3.1', 'n3/3.1'];
const uuid = (i: number): string => `${(0x10000000 + i).toString(16)}-7c2e-4b1a-9f3d-0242ac120002`;
const stampOf = (i: number): { stamp: Hlc } => ({ stamp: { wallMs: 1_760_000_000_000 + i, counter: 0, node: coordinators[i % 3]! } });

/** Created, then updated by three coordinators: what a VM record looks like after a while. */
function vmRecord(): Vm {
  let r = record.empty(VmRecord);
  const up = (ops: object, i: number): void => {
    r = record.applyUpdate(r, ops as never, stampOf(i)).record;
  };
  up({ alias: { set: 'web-frontend-01' }, state: { set: 'provisioning' }, ram: { set: 2048 }, cpuCap: { set: 200 }, hypervisor: { set: uuid(1) }, package: { set: uuid(2) }, owner: { set: uuid(3) }, created: { set: 1_760_000_000_000 } }, 0);
  up({ nics: { update: { net0: { update: { ip: { set: '10.20.30.40' }, mac: { set: '02:08:20:ab:cd:ef' } } } } } }, 1);
  up({ tags: { add: ['production', 'web', 'team-infra'] } }, 2);
  up({ state: { set: 'running' }, boots: { inc: 1 } }, 3);
  return r;
}

function rate(n: number, run: (i: number) => unknown): number {
  let sink: unknown;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) sink = run(i);
  const ms = performance.now() - t0;
  if (sink === Symbol.for('never')) throw new Error('unreachable');
  return (n / ms) * 1000;
}

/** Record state ⊔ delta per second, one core (module header); and the record's size at rest. */
export function crdtMerges(n: number): { perSecond: number; recordBytes: number } {
  const base = vmRecord();
  // Distinct deltas, so that no merge is answered by identity.
  const deltas = Array.from({ length: n }, (_, i) => {
    const ops = i % 3 === 0 ? { state: { set: i % 2 === 0 ? 'stopped' : 'running' } } : i % 3 === 1 ? { tags: { add: [`t${i}`] } } : { boots: { inc: 1 } };
    return record.applyUpdate(base, ops as never, stampOf(10 + i)).delta as Vm;
  });
  rate(Math.min(n, 5_000), (i) => record.merge(base, deltas[i]!)); // warm-up
  return { perSecond: rate(n, (i) => record.merge(base, deltas[i]!)), recordBytes: record.encode(base).byteLength };
}

/**
 * `A.change` setting one field of one small live document, per second. Automerge runs in
 * WebAssembly, which the engine compiles in tiers: the first thousands of changes run several
 * times slower, so a throwaway document takes `warmUp` changes first.
 */
export function automergeChanges(n: number, warmUp = 5_000): number {
  const fresh = (): A.Doc<Record<string, unknown>> =>
    A.from<Record<string, unknown>>({ alias: 'web-frontend-01', state: new A.ImmutableString('provisioning'), ram: 2048, cpuCap: 200, hypervisor: uuid(1), tags: ['production', 'web'] }, { actor: 'aa01' });
  let doc = fresh();
  rate(warmUp, (i) => (doc = A.change(doc, (d) => void (d['state'] = new A.ImmutableString(`s${i}`)))));
  doc = fresh();
  return rate(n, (i) => (doc = A.change(doc, (d) => void (d['state'] = new A.ImmutableString(`state-${i}`)))));
}
