/**
 * CRDT kinds: the schema vocabulary of records and OR-maps. A kind names a CRDT type and its
 * value check (`kind.lww('string')`), and at the type level it carries the operation and plain
 * value types (`OpOf`, `PlainOf`), so that `applyUpdate` and `toPlain` are typed by the schema.
 *
 * - `lww(check)`: LWW register (lww.ts); op `{ set: v }`; plain value `v | undefined`.
 * - `mvreg(check)`: MV register (mvreg.ts); op `{ set: v }`; plain value `v[]`.
 * - `orswot()`: add-wins set of strings (orswot.ts); op `{ add?: [...], remove?: [...] }`.
 * - `pncounter()`: PN-counter (pncounter.ts); op `{ inc: n }` (negative decrements).
 * - `ormap(values)`: OR-map whose every key holds a `values` CRDT; `struct(fields)`: OR-map
 *   with a fixed set of keys, each with its own kind. Op `{ update?: { key: op }, remove?: [key] }`.
 *
 * A value's kind is fixed per key by the schema, never by the data, so a peer cannot change the
 * type of a field. Kinds are plain frozen objects; `checkKind` validates a tree (nesting at most
 * `kindDepthMax`, struct keys valid and at most `recordFieldsMax`).
 */
import { CrdtSchemaError } from './errors.js';
import { crdtLimits } from './limits.js';
import type { CheckedType, Plain, ValueCheck } from './plain.js';
import { keyProblem } from './text.js';

export interface LwwKind<T extends Plain = Plain> {
  readonly type: 'lww';
  readonly check: ValueCheck;
  /** Type-level only: the register's value type. */
  readonly valueType?: T;
}

export interface MvKind<T extends Plain = Plain> {
  readonly type: 'mvreg';
  readonly check: ValueCheck;
  readonly valueType?: T;
}

export interface SetKind {
  readonly type: 'orswot';
}

export interface CounterKind {
  readonly type: 'pncounter';
}

export interface MapKind<V extends Kind = Kind> {
  readonly type: 'ormap';
  readonly values: V;
  readonly fields?: undefined;
}

export interface StructKind<F extends Fields = Fields> {
  readonly type: 'ormap';
  readonly fields: F;
  readonly values?: undefined;
}

export type Kind = LwwKind | MvKind | SetKind | CounterKind | MapKind | StructKind;
export type AnyMapKind = MapKind | StructKind;
export type Fields = { readonly [name: string]: Kind };

export const kind = Object.freeze({
  lww<C extends ValueCheck>(check: C): LwwKind<CheckedType<C>> {
    return Object.freeze({ type: 'lww', check });
  },
  mvreg<C extends ValueCheck>(check: C): MvKind<CheckedType<C>> {
    return Object.freeze({ type: 'mvreg', check });
  },
  orswot(): SetKind {
    return Object.freeze({ type: 'orswot' });
  },
  pncounter(): CounterKind {
    return Object.freeze({ type: 'pncounter' });
  },
  ormap<V extends Kind>(values: V): MapKind<V> {
    return Object.freeze({ type: 'ormap', values });
  },
  struct<F extends Fields>(fields: F): StructKind<F> {
    return Object.freeze({ type: 'ormap', fields: Object.freeze({ ...fields }) });
  },
});

export interface SetOp {
  readonly add?: readonly string[];
  readonly remove?: readonly string[];
}

export interface MapOp<V extends Kind> {
  readonly update?: { readonly [key: string]: OpOf<V> };
  readonly remove?: readonly string[];
}

export interface StructOp<F extends Fields> {
  readonly update?: { readonly [K in keyof F]?: OpOf<F[K]> };
  readonly remove?: readonly (keyof F & string)[];
}

/** The operation type of a kind. */
export type OpOf<K> =
  K extends LwwKind<infer T>
    ? { readonly set: T }
    : K extends MvKind<infer T>
      ? { readonly set: T }
      : K extends SetKind
        ? SetOp
        : K extends CounterKind
          ? { readonly inc: number }
          : K extends StructKind<infer F>
            ? StructOp<F>
            : K extends MapKind<infer V>
              ? MapOp<V>
              : never;

/** The plain (API) value type of a kind. */
export type PlainOf<K> =
  K extends LwwKind<infer T>
    ? T | undefined
    : K extends MvKind<infer T>
      ? T[]
      : K extends SetKind
        ? string[]
        : K extends CounterKind
          ? number
          : K extends StructKind<infer F>
            ? { [N in keyof F]?: PlainOf<F[N]> }
            : K extends MapKind<infer V>
              ? { [key: string]: PlainOf<V> }
              : never;

const checks: readonly string[] = ['string', 'number', 'integer', 'boolean', 'plain'];

/** The kind of `key` in a map kind, or undefined when a struct has no such key. */
export function kindOfKey(k: AnyMapKind, key: string): Kind | undefined {
  if (k.fields === undefined) return k.values;
  return Object.hasOwn(k.fields, key) ? k.fields[key] : undefined;
}

/** Throws `CrdtSchemaError` unless `k` is a well-formed kind tree (`at` names it in messages). */
export function checkKind(k: Kind, at: string, depth = 0): void {
  switch (k.type) {
    case 'lww':
    case 'mvreg':
      if (!checks.includes(k.check)) throw new CrdtSchemaError(`${at}: unknown value check ${String(k.check)}`);
      return;
    case 'orswot':
    case 'pncounter':
      return;
    case 'ormap':
      if (depth >= crdtLimits.kindDepthMax) throw new CrdtSchemaError(`${at}: maps nested deeper than ${crdtLimits.kindDepthMax}`);
      if (k.fields === undefined) return checkKind(k.values, `${at}.*`, depth + 1);
      checkFields(k.fields, at, depth + 1);
      return;
    default:
      throw new CrdtSchemaError(`${at}: unknown kind`);
  }
}

/** Validates the fields of a struct or a record. */
export function checkFields(fields: Fields, at: string, depth: number): void {
  const names = Object.keys(fields);
  if (names.length > crdtLimits.recordFieldsMax) throw new CrdtSchemaError(`${at}: more than ${crdtLimits.recordFieldsMax} fields`);
  for (const name of names) {
    const p = name === '__proto__' ? 'the name __proto__ is reserved' : keyProblem(name);
    if (p !== undefined || name === '') throw new CrdtSchemaError(`${at}: field name ${JSON.stringify(name)}: ${p ?? 'empty'}`);
    checkKind(fields[name] as Kind, `${at}.${name}`, depth);
  }
}
