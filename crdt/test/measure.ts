// Micro-measurements for the ring benchmark (printed, never asserted): CRDT merges per second on
// a typical ~10-field entity record, its encoded size at rest, and Automerge changes per second
// beside it. Targets from the ring issue: ≥ 100 k merges/s per core; < 2 KB per stored record.
import { performance } from 'node:perf_hooks';
import * as A from '@automerge/automerge';
import { defineRecord, kind, record } from '@shoal/crdt';
import { metadata } from '@shoal/crdt/metadata';
import type { EntityRecord, Hlc } from '@shoal/crdt';

export const VmRecord = defineRecord('vm', {
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

const coordinators = ['shoal-core-01', 'shoal-core-02', 'shoal-core-03'];
const uuid = (i: number): string => `${(0x10000000 + i).toString(16)}-7c2e-4b1a-9f3d-0242ac120002`;
const stampOf = (i: number): { stamp: Hlc } => ({ stamp: { wallMs: 1_760_000_000_000 + i, counter: 0, node: coordinators[i % 3] as string } });

/** A VM record as the ring would hold it: created, then updated by three coordinators. */
export function typicalRecord(): Vm {
  let r = record.empty(VmRecord);
  const up = (ops: object, i: number): void => {
    r = record.applyUpdate(r, ops as never, stampOf(i)).record;
  };
  up({ alias: { set: 'web-frontend-01' }, state: { set: 'provisioning' }, ram: { set: 2048 }, cpuCap: { set: 200 }, hypervisor: { set: uuid(1) }, package: { set: uuid(2) }, owner: { set: uuid(3) }, created: { set: 1_760_000_000_000 } }, 0);
  up({ nics: { update: { net0: { update: { ip: { set: '10.20.30.40' }, mac: { set: '02:08:20:ab:cd:ef' } } } } } }, 1);
  up({ tags: { add: ['production', 'web', 'team-infra'] } }, 2);
  up({ state: { set: 'running' }, boots: { inc: 1 } }, 3);
  up({ tags: { add: ['pci'] }, boots: { inc: 1 } }, 4);
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

export interface Measurement {
  readonly name: string;
  readonly value: number;
  readonly unit: string;
}

export function measure(scale = 1): Measurement[] {
  const base = typicalRecord();
  const n = Math.max(1000, Math.round(20_000 * scale));
  // Distinct deltas, so nothing is answered by identity: a state change, a tag, a counter bump.
  const deltas = Array.from({ length: n }, (_, i) => {
    const ops = i % 3 === 0 ? { state: { set: i % 2 === 0 ? 'stopped' : 'running' } } : i % 3 === 1 ? { tags: { add: [`t${i}`] } } : { boots: { inc: 1 } };
    return record.applyUpdate(base, ops as never, stampOf(10 + i)).delta;
  });
  const replicas = Array.from({ length: 64 }, (_, i) => record.applyUpdate(base, { state: { set: `s${i}` }, tags: { add: [`r${i}`] } }, stampOf(100_000 + i)).record);
  for (let i = 0; i < 2000; i++) record.merge(base, deltas[i % n] as Vm); // warm-up
  const deltaRate = rate(n, (i) => record.merge(base, deltas[i] as Vm));
  const fullRate = rate(n, (i) => record.merge(replicas[i % 64] as Vm, replicas[(i * 7 + 1) % 64] as Vm));
  const bytes = record.encode(base);
  const tombstone = record.encode(record.deleteRecord(base, stampOf(999)).record);
  const encodeRate = rate(n, () => record.encode(base));
  const decodeRate = rate(n, () => record.decode(VmRecord, bytes));
  return [
    { name: 'record merge, state ⊔ delta (~11 fields)', value: deltaRate, unit: 'merges/s' },
    { name: 'record merge, full state ⊔ full state', value: fullRate, unit: 'merges/s' },
    { name: 'record encoded at rest', value: bytes.length, unit: 'bytes' },
    { name: 'tombstone encoded', value: tombstone.length, unit: 'bytes' },
    { name: 'record encode (msgpack)', value: encodeRate, unit: 'records/s' },
    { name: 'record decode + validate', value: decodeRate, unit: 'records/s' },
    ...measureAutomerge(scale),
  ];
}

function measureAutomerge(scale: number): Measurement[] {
  const n = Math.max(50, Math.round(400 * scale * scale));
  let doc: Uint8Array | undefined;
  const r = rate(n, (i) => {
    const res = metadata.setPath(doc, ['labels', `k${i % 10}`], `value-${i}`, 'shoal-core-01');
    if (!res.ok) throw res.error;
    doc = res.value;
  });
  let live = A.init<Record<string, unknown>>({ actor: 'aa01' });
  const inMemory = rate(n, (i) => {
    live = A.change(live, (d) => {
      d[`k${i % 10}`] = new A.ImmutableString(`value-${i}`);
    });
  });
  return [
    { name: 'Automerge change on a live document (in memory)', value: inMemory, unit: 'changes/s' },
    { name: 'Automerge setPath (load + change + save, ≤10 keys)', value: r, unit: 'changes/s' },
    { name: `Automerge document after ${n} changes`, value: doc?.length ?? 0, unit: 'bytes' },
  ];
}

export function formatTable(rows: readonly Measurement[]): string {
  const width = Math.max(...rows.map((r) => r.name.length));
  return rows.map((r) => `${r.name.padEnd(width)}  ${Math.round(r.value).toLocaleString('en-US').padStart(10)} ${r.unit}`).join('\n');
}
