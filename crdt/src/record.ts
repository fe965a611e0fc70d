/**
 * Typed entity records: a schema maps field names to CRDT kinds (kind.ts), and a record is one
 * standalone CRDT per field (field.ts) plus a deletion register — the shape of riak_dt_map
 * records in FiFo and of Akka Distributed Data's composed types.
 *
 * ```ts
 * const Vm = defineRecord('vm', { name: kind.lww('string'), ram: kind.lww('integer'),
 *   tags: kind.orswot(), owners: kind.orswot() });
 * const { record, delta } = applyUpdate(empty(Vm), { name: { set: 'web-1' }, tags: { add: ['prod'] } }, { stamp });
 * merge(replica, delta); toPlain(record); // { name: 'web-1', tags: ['prod'], owners: [] }
 * ```
 *
 * - `applyUpdate(record, ops, ctx)` applies each field's operation (validated: unknown fields,
 *   wrong shapes and limits throw named errors, and since everything is pure nothing changed)
 *   and returns the new record and its **delta**: a record holding only the touched fields'
 *   deltas, so `merge(anyReplica, delta)` applies the update there. Merge is field-wise and
 *   touches only the fields present in its second argument, which is what makes merging a
 *   delta into a 10-field record cheap.
 * - **Deletion**: `deleted` is an LWW register that is only ever written `true`, and delete is
 *   final: a deleted record (a tombstone) keeps its deletion stamp and drops every field, and
 *   merging it with any state — an older write, a concurrent write, or a later one from a replica
 *   that had not yet heard of the delete — yields the tombstone. Delete therefore wins over
 *   older writes and over everything else; entity ids are never reused (UUIDs), so there is no
 *   "undelete". This is also what keeps merge a lattice join: were a later write allowed to
 *   resurrect the record, the dropped fields would make merge order matter. `applyUpdate` on a
 *   tombstone throws `RecordDeletedError`. **Reaping** tombstones — forgetting the key once every
 *   replica holds the tombstone and no older state can arrive (e.g. after a grace period longer
 *   than hinted handoff) — is the ring's business, not this module's.
 *
 * Encoding: `[1, deleted, [[field, encoding], …]]`, fields sorted, bottom fields omitted.
 */
import { CrdtSchemaError, CrdtValueError, RecordDeletedError } from './errors.js';
import type { WireResult } from './errors.js';
import { decodeWire, encodeWire } from './codec.js';
import { hlcProblem } from './hlc.js';
import type { Hlc } from './hlc.js';
import { checkFields } from './kind.js';
import type { Fields, Kind, OpOf, PlainOf } from './kind.js';
import { crdtLimits } from './limits.js';
import * as lww from './lww.js';
import type { Lww, LwwWire } from './lww.js';
import { fieldApply, fieldEmpty, fieldEquals, fieldIsBottom, fieldMerge, fieldToWire, fieldValue, readField } from './field.js';
import type { FieldState } from './field.js';
import type { OpContext } from './store.js';
import { decoding, readArray, readInt, reject } from './wire-read.js';

export interface RecordSchema<F extends Fields = Fields> {
  /** The entity type, e.g. `vm`; names the record in error messages. */
  readonly name: string;
  readonly fields: F;
  /** Field names, sorted. */
  readonly names: readonly string[];
}

export interface EntityRecord<F extends Fields = Fields> {
  readonly schema: RecordSchema<F>;
  readonly deleted: Lww<true>;
  /** Non-bottom fields only. */
  readonly fields: ReadonlyMap<string, FieldState>;
}

export interface RecordDelta<F extends Fields = Fields> {
  readonly record: EntityRecord<F>;
  readonly delta: EntityRecord<F>;
}

export type FieldOps<F extends Fields> = { readonly [N in keyof F]?: OpOf<F[N]> };
export type RecordPlain<F extends Fields> = { [N in keyof F]: PlainOf<F[N]> };

export const recordWireVersion = 1;

const noFields: ReadonlyMap<string, FieldState> = new Map();

/** Defines a record schema (validated once: names, kinds, nesting, field count). */
export function defineRecord<F extends Fields>(name: string, fields: F): RecordSchema<F> {
  if (name.length === 0 || name.length > 64) throw new CrdtSchemaError('record: a schema name is 1 to 64 characters');
  checkFields(fields, name, 0);
  return Object.freeze({ name, fields: Object.freeze({ ...fields }), names: Object.freeze(Object.keys(fields).sort()) });
}

export function empty<F extends Fields>(schema: RecordSchema<F>): EntityRecord<F> {
  return { schema, deleted: undefined, fields: noFields };
}

function kindOf(schema: RecordSchema, name: string): Kind {
  if (!Object.hasOwn(schema.fields, name)) throw new CrdtSchemaError(`${schema.name}: no field ${JSON.stringify(name)}`);
  return schema.fields[name] as Kind;
}

function checkCtx(schema: RecordSchema, ctx: OpContext): void {
  const p = typeof ctx === 'object' && ctx !== null && typeof ctx.stamp === 'object' && ctx.stamp !== null ? hlcProblem(ctx.stamp) : 'no stamp';
  if (p !== undefined) throw new CrdtValueError(`${schema.name}: ${p}`);
}

/** Applies field operations; returns the new record and the delta to ship (see the header). */
export function applyUpdate<F extends Fields>(record: EntityRecord<F>, ops: FieldOps<F>, ctx: OpContext): RecordDelta<F> {
  const schema = record.schema;
  checkCtx(schema, ctx);
  if (record.deleted !== undefined) throw new RecordDeletedError(`${schema.name}: the record is deleted`);
  if (typeof ops !== 'object' || ops === null || Array.isArray(ops)) throw new CrdtValueError(`${schema.name}: expected an object of field operations`);
  let fields: Map<string, FieldState> | undefined;
  const deltaFields = new Map<string, FieldState>();
  for (const name of Object.keys(ops)) {
    const k = kindOf(schema, name);
    const op = (ops as Readonly<Record<string, unknown>>)[name];
    if (op === undefined) continue;
    const cur = record.fields.get(name) ?? fieldEmpty(k);
    const r = fieldApply(k, cur, op, ctx, `${schema.name}.${name}`);
    if (!fieldIsBottom(k, r.delta)) deltaFields.set(name, r.delta);
    if (r.state === cur) continue;
    fields ??= new Map(record.fields);
    fields.set(name, r.state);
  }
  return {
    record: fields === undefined ? record : { schema, deleted: undefined, fields },
    delta: { schema, deleted: undefined, fields: deltaFields.size === 0 ? noFields : deltaFields },
  };
}

/** Deletes the record (final); the delta is the tombstone itself. */
export function deleteRecord<F extends Fields>(record: EntityRecord<F>, ctx: OpContext): RecordDelta<F> {
  checkCtx(record.schema, ctx);
  if (record.deleted !== undefined) return { record, delta: record };
  const deleted = lww.set<true>(undefined, true, ctx.stamp, 'boolean').state;
  const tombstone = { schema: record.schema, deleted, fields: noFields };
  return { record: tombstone, delta: tombstone };
}

export function isDeleted(record: EntityRecord): boolean {
  return record.deleted !== undefined;
}

/** The stamp of the delete, for the ring's reaper. */
export function deletedAt(record: EntityRecord): Hlc | undefined {
  return record.deleted?.stamp;
}

/** Field-wise merge; a tombstone absorbs everything. Returns `a` itself when nothing changed. */
export function merge<F extends Fields>(a: EntityRecord<F>, b: EntityRecord<F>): EntityRecord<F> {
  if (a === b) return a;
  if (a.schema !== b.schema) throw new CrdtSchemaError(`${a.schema.name}: merging records of different schemas`);
  const deleted = lww.merge(a.deleted, b.deleted);
  if (deleted !== undefined) return deleted === a.deleted && a.fields.size === 0 ? a : { schema: a.schema, deleted, fields: noFields };
  let fields: Map<string, FieldState> | undefined;
  for (const [name, y] of b.fields) {
    const x = a.fields.get(name);
    const m = x === undefined ? y : fieldMerge(a.schema.fields[name] as Kind, x, y);
    if (m === x) continue;
    fields ??= new Map(a.fields);
    fields.set(name, m);
  }
  return fields === undefined ? a : { schema: a.schema, deleted: undefined, fields };
}

export function equals(a: EntityRecord, b: EntityRecord): boolean {
  if (a === b) return true;
  if (a.schema !== b.schema || !lww.equals(a.deleted, b.deleted) || a.fields.size !== b.fields.size) return false;
  for (const [name, x] of a.fields) {
    const y = b.fields.get(name);
    if (y === undefined || !fieldEquals(a.schema.fields[name] as Kind, x, y)) return false;
  }
  return true;
}

/** What an API returns: every field's plain value (unset LWW fields omitted); undefined if deleted. */
export function toPlain<F extends Fields>(record: EntityRecord<F>): RecordPlain<F> | undefined {
  if (record.deleted !== undefined) return undefined;
  const { schema } = record;
  const entries: [string, unknown][] = [];
  for (const name of schema.names) {
    const k = schema.fields[name] as Kind;
    const v = fieldValue(k, record.fields.get(name) ?? fieldEmpty(k));
    if (v !== undefined) entries.push([name, v]);
  }
  return Object.fromEntries(entries) as RecordPlain<F>;
}

export type RecordWire = [number, LwwWire, [string, unknown][]];

export function toWire(record: EntityRecord): RecordWire {
  const names = [...record.fields.keys()].sort();
  return [recordWireVersion, lww.toWire(record.deleted), names.map((n) => [n, fieldToWire(record.schema.fields[n] as Kind, record.fields.get(n) as FieldState)])];
}

function readRecord<F extends Fields>(schema: RecordSchema<F>, x: unknown): EntityRecord<F> {
  const items = readArray(x, 'record', 3);
  readInt(items[0], 'record.version', recordWireVersion, recordWireVersion);
  const deleted = lww.readLww(items[1], 'record.deleted', 'boolean');
  if (deleted !== undefined && deleted.value !== true) reject('record.deleted', 'a deletion register holds only true');
  const list = readArray(items[2], 'record.fields', crdtLimits.recordFieldsMax);
  const fields = new Map<string, FieldState>();
  let prev: string | undefined;
  for (let i = 0; i < list.length; i++) {
    const e = readArray(list[i], `record.fields[${i}]`, 2);
    const name = e[0];
    if (typeof name !== 'string' || !Object.hasOwn(schema.fields, name)) reject(`record.fields[${i}]`, `no such field in ${schema.name}`);
    if (prev !== undefined && !(prev < name)) reject(`record.fields[${i}]`, 'fields are not in strictly increasing order');
    prev = name;
    const k = schema.fields[name] as Kind;
    const state = readField(k, e[1], `${name}`);
    if (!fieldIsBottom(k, state)) fields.set(name, state);
  }
  // A tombstone holds no fields (delete is final); drop any that came with it.
  return { schema, deleted: deleted as Lww<true>, fields: deleted !== undefined || fields.size === 0 ? noFields : fields };
}

export function fromWire<F extends Fields>(schema: RecordSchema<F>, x: unknown): WireResult<EntityRecord<F>> {
  return decoding(() => readRecord(schema, x));
}

/** The record as bytes (msgpack of `toWire`): what is stored at rest and shipped. */
export function encode(record: EntityRecord): Uint8Array {
  return encodeWire(toWire(record));
}

/** Decodes bytes from `encode`; never throws. */
export function decode<F extends Fields>(schema: RecordSchema<F>, bytes: Uint8Array): WireResult<EntityRecord<F>> {
  const w = decodeWire(bytes);
  return w.ok ? fromWire(schema, w.value) : w;
}
