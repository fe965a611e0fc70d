// Typed entity records: the typed API, deltas of only the touched fields, toPlain, final
// deletion (tombstones), schema and operation errors, and record encodings.
import t from 'tap';
import { CrdtSchemaError, CrdtValueError, RecordDeletedError, defineRecord, kind, record } from '@shoal/crdt';
import type { FieldOps, Hlc, RecordPlain } from '@shoal/crdt';

const Vm = defineRecord('vm', {
  name: kind.lww('string'),
  ram: kind.lww('integer'),
  tags: kind.orswot(),
  owners: kind.orswot(),
  boots: kind.pncounter(),
  nics: kind.ormap(kind.struct({ ip: kind.lww('string'), vlans: kind.orswot() })),
});
type VmFields = typeof Vm.fields;

const ctx = (wallMs: number, node = 'core-1'): { stamp: Hlc } => ({ stamp: { wallMs, counter: 0, node } });

// Type-level checks: these lines fail to compile if the schema typing breaks.
const ops: FieldOps<VmFields> = { name: { set: 'web-1' }, ram: { set: 2048 }, tags: { add: ['prod'] }, nics: { update: { eth0: { update: { ip: { set: '10.0.0.5' } } } } } };
// @ts-expect-error ram is an integer register
const badRam: FieldOps<VmFields> = { ram: { set: 'lots' } };
// @ts-expect-error no such field
const badField: FieldOps<VmFields> = { colour: { set: 'red' } };
void badRam;
void badField;

t.test('applyUpdate, delta and toPlain', async (t) => {
  const { record: r, delta } = record.applyUpdate(record.empty(Vm), ops, ctx(1000));
  const plain: RecordPlain<VmFields> | undefined = record.toPlain(r);
  t.same(plain, { boots: 0, name: 'web-1', nics: { eth0: { ip: '10.0.0.5' } }, owners: [], ram: 2048, tags: ['prod'] });
  t.same([...delta.fields.keys()].sort(), ['name', 'nics', 'ram', 'tags'], 'the delta holds the touched fields only');
  const next = record.applyUpdate(r, { owners: { add: ['alice'] } }, ctx(1001));
  t.same([...next.delta.fields.keys()], ['owners']);
  const replica = record.merge(record.merge(record.empty(Vm), delta), next.delta);
  t.ok(record.equals(replica, next.record), 'a replica that merges the deltas has the record');
  t.equal(record.merge(next.record, next.delta), next.record, 'merging a delta already seen returns the same object');
  const noop = record.applyUpdate(next.record, { tags: { remove: ['absent'] } }, ctx(1002));
  t.equal(noop.record, next.record, 'an update that changes nothing returns the same record');
  t.equal(noop.delta.fields.size, 0, 'and an empty delta');
});

t.test('delete is final: the tombstone absorbs older, concurrent and later writes', async (t) => {
  const base = record.applyUpdate(record.empty(Vm), ops, ctx(1000)).record;
  const concurrent = record.applyUpdate(base, { name: { set: 'renamed' } }, ctx(3000, 'core-2'));
  const del = record.deleteRecord(base, ctx(2000));
  t.equal(del.record.fields.size, 0, 'a tombstone holds no fields');
  t.equal(record.toPlain(del.record), undefined, 'toPlain of a deleted record is undefined');
  t.ok(record.isDeleted(del.record));
  t.same(record.deletedAt(del.record), { wallMs: 2000, counter: 0, node: 'core-1' }, 'the stamp, for the ring\'s reaper');
  for (const [name, other] of [['older state', base], ['concurrent later-stamped write', concurrent.delta], ['full state with that write', concurrent.record]] as const) {
    t.ok(record.isDeleted(record.merge(del.record, other)), `${name} merged into the tombstone`);
    t.ok(record.isDeleted(record.merge(other, del.delta)), `tombstone merged into ${name}`);
  }
  t.throws(() => record.applyUpdate(del.record, { name: { set: 'x' } }, ctx(4000)), RecordDeletedError);
  t.equal(record.deleteRecord(del.record, ctx(5000)).record, del.record, 'deleting twice changes nothing');
  const bytes = record.encode(del.record);
  t.ok(bytes.length < 32, `a tombstone is ${bytes.length} bytes`);
  const back = record.decode(Vm, bytes);
  t.ok(back.ok && record.equals(back.value, del.record));
});

t.test('refused updates throw named errors and change nothing', async (t) => {
  const r = record.empty(Vm);
  t.throws(() => record.applyUpdate(r, { colour: { set: 'red' } } as never, ctx(1)), CrdtSchemaError, 'unknown field');
  t.throws(() => record.applyUpdate(r, { constructor: { set: 'x' } } as never, ctx(1)), CrdtSchemaError, 'inherited names are not fields');
  t.throws(() => record.applyUpdate(r, { ram: { set: 'lots' } } as never, ctx(1)), CrdtValueError, 'wrong value type');
  t.throws(() => record.applyUpdate(r, { ram: { inc: 1 } } as never, ctx(1)), CrdtValueError, 'wrong operation');
  t.throws(() => record.applyUpdate(r, { tags: { add: 'prod' } } as never, ctx(1)), CrdtValueError, 'add is a list');
  t.throws(() => record.applyUpdate(r, { tags: { add: ['a'], remove: ['a'] } }, ctx(1)), CrdtValueError, 'add and remove the same element');
  t.throws(() => record.applyUpdate(r, { tags: { add: ['a', 'a'] } }, ctx(1)), CrdtValueError, 'duplicate elements');
  t.throws(() => record.applyUpdate(r, { nics: { update: { eth0: { update: { mac: { set: 'x' } } } } } } as never, ctx(1)), CrdtSchemaError, 'unknown struct key');
  t.throws(() => record.applyUpdate(r, { name: { set: 'x' } }, { stamp: { wallMs: -1, counter: 0, node: 'n' } }), CrdtValueError, 'bad stamp');
  t.throws(() => record.applyUpdate(r, { name: { set: 'x' } }, {} as never), CrdtValueError, 'no stamp');
  t.throws(() => record.applyUpdate(r, null as never, ctx(1)), CrdtValueError, 'no operations object');
  const Other = defineRecord('other', { name: kind.lww('string') });
  t.throws(() => record.merge(record.empty(Vm), record.empty(Other) as never), CrdtSchemaError, 'merging different schemas');
});

t.test('schemas are validated once', async (t) => {
  t.throws(() => defineRecord('', { a: kind.lww('string') }), CrdtSchemaError, 'empty name');
  t.throws(() => defineRecord('x', { ['__proto__']: kind.lww('string') } as never), CrdtSchemaError);
  const deep = kind.ormap(kind.ormap(kind.ormap(kind.ormap(kind.ormap(kind.lww('string'))))));
  t.throws(() => defineRecord('x', { deep }), CrdtSchemaError, 'maps nested past kindDepthMax');
  t.throws(() => defineRecord('x', { a: { type: 'lww', check: 'date' } as never }), CrdtSchemaError, 'unknown value check');
  t.throws(() => defineRecord('x', { a: { type: 'graph' } as never }), CrdtSchemaError, 'unknown kind');
  const many = Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`f${i}`, kind.pncounter()]));
  t.throws(() => defineRecord('x', many), CrdtSchemaError, 'more than recordFieldsMax fields');
});

t.test('record encodings refuse what does not fit the schema', async (t) => {
  const r = record.applyUpdate(record.empty(Vm), ops, ctx(1000)).record;
  const w = record.toWire(r);
  t.same(record.fromWire(Vm, w).ok, true);
  const rows: [string, unknown][] = [
    ['unknown field', [1, [], [['colour', [1, 0, 'n', 'red']]]]],
    ['wrong version', [2, [], []]],
    ['deleted = false', [1, [1, 0, 'n', false], []]],
    ['field type mismatch', [1, [], [['ram', [1, 0, 'n', 'lots']]]]],
    ['fields out of order', [1, [], [['ram', [1, 0, 'n', 1]], ['name', [1, 0, 'n', 'a']]]]],
    ['inherited name', [1, [], [['constructor', []]]]],
    ['not an array', { fields: {} }],
  ];
  for (const [name, bad] of rows) {
    const res = record.fromWire(Vm, bad);
    t.equal(res.ok, false, name);
    if (!res.ok) t.ok(res.error.message.length > 0, `${name}: ${res.error.message}`);
  }
  const tomb = record.fromWire(Vm, [1, [5, 0, 'n', true], w[2]]);
  t.ok(tomb.ok && tomb.value.fields.size === 0, 'fields that came with a tombstone are dropped');
});
