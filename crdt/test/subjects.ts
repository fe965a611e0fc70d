// The CRDT types under test, each wrapped as a `Subject`: the same law suite (laws.test.ts) and
// the garbage/mutation fuzz (wire.test.ts) run against every one of them.
import fc from 'fast-check';
import { defineRecord, kind, lww, mvreg, orswot, pncounter, ormap, record } from '@shoal/crdt';
import type { EntityRecord, Lww, MvReg, OpContext, OrMap, Orswot, PnCounter, WireResult } from '@shoal/crdt';

export interface Subject<S> {
  readonly name: string;
  readonly empty: S;
  /** A random operation description, interpreted by `apply`. */
  readonly op: fc.Arbitrary<unknown>;
  apply(state: S, op: unknown, ctx: OpContext): { state: S; delta: S };
  merge(a: S, b: S): S;
  equals(a: S, b: S): boolean;
  toWire(s: S): unknown;
  fromWire(w: unknown): WireResult<S>;
}

const elem = fc.constantFrom('a', 'b', 'c', 'd', 'e');
const key = fc.constantFrom('k1', 'k2', 'k3');
const small = fc.oneof(fc.constantFrom('x', 'y', 'z'), fc.integer({ min: -3, max: 3 }));

export const lwwSubject: Subject<Lww> = {
  name: 'lww',
  empty: lww.empty,
  op: small,
  apply: (s, op, ctx) => lww.set(s, op as string | number, ctx.stamp),
  merge: lww.merge,
  equals: lww.equals,
  toWire: lww.toWire,
  fromWire: (w) => lww.fromWire(w),
};

export const mvSubject: Subject<MvReg> = {
  name: 'mvreg',
  empty: mvreg.empty,
  op: small,
  apply: (s, op, ctx) => mvreg.set(s, op as string | number, ctx.stamp.node),
  merge: mvreg.merge,
  equals: mvreg.equals,
  toWire: mvreg.toWire,
  fromWire: (w) => mvreg.fromWire(w),
};

export const setSubject: Subject<Orswot> = {
  name: 'orswot',
  empty: orswot.empty,
  op: fc.record({ add: fc.boolean(), e: elem }),
  apply: (s, op, ctx) => {
    const o = op as { add: boolean; e: string };
    return o.add ? orswot.add(s, o.e, ctx.stamp.node) : orswot.remove(s, o.e);
  },
  merge: orswot.merge,
  equals: orswot.equals,
  toWire: orswot.toWire,
  fromWire: orswot.fromWire,
};

export const counterSubject: Subject<PnCounter> = {
  name: 'pncounter',
  empty: pncounter.empty,
  op: fc.integer({ min: -5, max: 5 }),
  apply: (s, op, ctx) => pncounter.increment(s, ctx.stamp.node, op as number),
  merge: pncounter.merge,
  equals: pncounter.equals,
  toWire: pncounter.toWire,
  fromWire: pncounter.fromWire,
};

/** An OR-map with every kind inside, including a nested map. */
export const mapKind = kind.ormap(
  kind.struct({
    r: kind.lww('integer'),
    s: kind.orswot(),
    c: kind.pncounter(),
    m: kind.mvreg('string'),
    sub: kind.ormap(kind.lww('string')),
  }),
);

const innerOp = fc.oneof(
  fc.record({ update: fc.record({ r: fc.record({ set: fc.integer({ min: 0, max: 9 }) }) }) }),
  fc.record({ update: fc.record({ s: fc.oneof(fc.record({ add: fc.array(elem, { maxLength: 2 }) }), fc.record({ remove: fc.array(elem, { maxLength: 2 }) })) }) }),
  fc.record({ update: fc.record({ c: fc.record({ inc: fc.integer({ min: -3, max: 3 }) }) }) }),
  fc.record({ update: fc.record({ m: fc.record({ set: fc.constantFrom('p', 'q') }) }) }),
  fc.record({ update: fc.record({ sub: fc.record({ update: fc.dictionary(key, fc.record({ set: fc.constantFrom('u', 'v') }), { maxKeys: 2 }) }) }) }),
  fc.record({ update: fc.record({ sub: fc.record({ remove: fc.uniqueArray(key, { maxLength: 1 }) }) }) }),
  fc.record({ remove: fc.uniqueArray(fc.constantFrom('r', 's', 'c', 'm', 'sub'), { maxLength: 2 }) }),
);

const dedupeSet = (o: { add?: string[]; remove?: string[] }): unknown => ({ add: [...new Set(o.add ?? [])], remove: [...new Set(o.remove ?? [])] });

export const mapOp: fc.Arbitrary<unknown> = fc.oneof(
  fc.record({ key, inner: innerOp }).map(({ key: k, inner }) => {
    const i = inner as { update?: { s?: { add?: string[]; remove?: string[] } } };
    if (i.update?.s !== undefined) return { update: { [k]: { update: { s: dedupeSet(i.update.s) } } } };
    return { update: { [k]: inner } };
  }),
  key.map((k) => ({ remove: [k] })),
);

export const mapSubject: Subject<OrMap<typeof mapKind>> = {
  name: 'ormap',
  empty: ormap.empty(mapKind),
  op: mapOp,
  apply: (s, op, ctx) => ormap.apply(s, op as never, ctx),
  merge: ormap.merge,
  equals: ormap.equals,
  toWire: ormap.toWire,
  fromWire: (w) => ormap.fromWire(mapKind, w),
};

/** A VM-like record: every kind as a field. */
export const Vm = defineRecord('vm', {
  name: kind.lww('string'),
  ram: kind.lww('integer'),
  tags: kind.orswot(),
  owners: kind.orswot(),
  notes: kind.mvreg('plain'),
  boots: kind.pncounter(),
  nics: kind.ormap(kind.struct({ ip: kind.lww('string'), vlans: kind.orswot() })),
});
export type VmFields = typeof Vm.fields;

export const recordOp: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ name: fc.record({ set: fc.constantFrom('web', 'db') }) }) },
  { weight: 3, arbitrary: fc.record({ ram: fc.record({ set: fc.constantFrom(512, 1024) }) }) },
  { weight: 4, arbitrary: fc.record({ tags: fc.oneof(fc.record({ add: fc.uniqueArray(elem, { maxLength: 2 }) }), fc.record({ remove: fc.uniqueArray(elem, { maxLength: 2 }) })) }) },
  { weight: 2, arbitrary: fc.record({ owners: fc.record({ add: fc.uniqueArray(elem, { maxLength: 1 }) }) }) },
  { weight: 2, arbitrary: fc.record({ notes: fc.record({ set: fc.oneof(small, fc.constant({ a: [1, 'b'] })) }) }) },
  { weight: 2, arbitrary: fc.record({ boots: fc.record({ inc: fc.integer({ min: -2, max: 2 }) }) }) },
  {
    weight: 3,
    arbitrary: fc.oneof(
      fc.record({ nics: fc.record({ update: fc.dictionary(fc.constantFrom('eth0', 'eth1'), fc.record({ update: fc.record({ ip: fc.record({ set: fc.constantFrom('10.0.0.1', '10.0.0.2') }) }) }), { maxKeys: 1 }) }) }),
      fc.record({ nics: fc.record({ update: fc.dictionary(fc.constantFrom('eth0', 'eth1'), fc.record({ update: fc.record({ vlans: fc.record({ add: fc.uniqueArray(elem, { maxLength: 1 }) }) }) }), { maxKeys: 1 }) }) }),
      fc.record({ nics: fc.record({ remove: fc.uniqueArray(fc.constantFrom('eth0', 'eth1'), { maxLength: 1 }) }) }),
    ),
  },
  { weight: 1, arbitrary: fc.constant('delete') },
);

export function applyRecordOp(s: EntityRecord<VmFields>, op: unknown, ctx: OpContext): { state: EntityRecord<VmFields>; delta: EntityRecord<VmFields> } {
  if (op === 'delete') {
    const r = record.deleteRecord(s, ctx);
    return { state: r.record, delta: r.delta };
  }
  // An update of a deleted record is refused (RecordDeletedError); as an operation it is a no-op.
  if (record.isDeleted(s)) return { state: s, delta: record.empty(Vm) };
  const r = record.applyUpdate(s, op as never, ctx);
  return { state: r.record, delta: r.delta };
}

export const recordSubject: Subject<EntityRecord<VmFields>> = {
  name: 'record',
  empty: record.empty(Vm),
  op: recordOp,
  apply: applyRecordOp,
  merge: record.merge,
  equals: record.equals,
  toWire: record.toWire,
  fromWire: (w) => record.fromWire(Vm, w),
};

export const subjects: readonly Subject<unknown>[] = [lwwSubject, mvSubject, setSubject, counterSubject, mapSubject, recordSubject] as unknown as readonly Subject<unknown>[];
