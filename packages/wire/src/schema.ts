/**
 * Schemas: small validators that check decoded values and give them TypeScript types.
 *
 * `s.object({ node: s.string({ bytesMax: 128 }), port: s.uint({ max: 65535 }) })` is both a
 * runtime check and, through `Infer<typeof schema>`, the type `{ node: string; port: number }`.
 * Every message type in the registry has one; the codec checks each decoded body against it,
 * and each body handed to `encode` too (so a bad message is caught where it is made).
 *
 * Design, for speed on the batch path (millions of bodies per second):
 * - a schema is an object with a `check(value, fromWire)` method that returns `undefined` on
 *   success and allocates nothing; only a failure builds an `Issue`, and containers add their
 *   path segment to it on the way out, so a reason reads `members[3].name: string longer than
 *   64 bytes`;
 * - `fromWire` says the value came out of the scanner and msgpackr: it is then known to be plain
 *   data within the codec limits, so `s.any()` accepts it without walking it. For values about
 *   to be encoded, the codec scans its own output instead (see codec.ts).
 *
 * Invariants: `check` never throws for any value (including getters-free hostile objects from
 * msgpackr); objects must be plain (prototype `Object.prototype` or `null`), so `Map`, `Date`,
 * class instances and typed arrays other than `Uint8Array` are refused; shape keys may not be
 * names found on `Object.prototype`, so reading a missing field can never reach the prototype.
 */
import { Buffer } from 'node:buffer';
import { SchemaError } from './errors.js';

/** A failed check: a message and the path to the value, innermost segment first. */
export class Issue {
  private readonly reversedPath: (string | number)[] = [];
  constructor(readonly message: string) {}

  /** Adds the segment of an enclosing container (called on the way out). */
  at(segment: string | number): this {
    this.reversedPath.push(segment);
    return this;
  }

  get path(): (string | number)[] {
    return [...this.reversedPath].reverse();
  }

  /** `root.a[3]["odd key"]: message`; `root` is a prefix such as `body`. */
  format(root = ''): string {
    let out = root;
    for (let i = this.reversedPath.length - 1; i >= 0; i--) {
      const seg = this.reversedPath[i]!;
      if (typeof seg === 'number') out += `[${seg}]`;
      else if (/^[A-Za-z_$][\w$]{0,63}$/.test(seg)) out += out === '' ? seg : `.${seg}`;
      else out += `[${JSON.stringify(seg.length > 64 ? `${seg.slice(0, 64)}…` : seg)}]`;
    }
    return out === '' ? this.message : `${out}: ${this.message}`;
  }
}

export abstract class Schema<T> {
  /** Phantom: the type this schema accepts. Never set at run time. */
  declare readonly __type: T;
  abstract readonly kind: string;
  readonly isOptional: boolean = false;
  /** `undefined` when `value` is accepted; never throws. */
  abstract check(value: unknown, fromWire: boolean): Issue | undefined;
}

/** The TypeScript type a schema accepts. */
export type Infer<S extends Schema<unknown>> = S['__type'];

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (v instanceof Uint8Array) return 'bytes';
  return typeof v;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null) return false;
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

function optionInt(what: string, value: number | undefined, fallback: number, min = 0): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < min) throw new SchemaError(`${what} must be a safe integer ≥ ${min}, got ${value}`);
  return value;
}

export interface StringOptions {
  /** UTF-8 bytes, at most. */
  bytesMax?: number;
  /** UTF-8 bytes, at least (1 = non-empty). */
  bytesMin?: number;
  /** Unicode code points, at most. */
  charsMax?: number;
  /** Must match; no `g`/`y` flags (they make `test` stateful). Keep it linear-time. */
  pattern?: RegExp;
}

export class StringSchema extends Schema<string> {
  readonly kind = 'string';
  readonly bytesMax: number;
  readonly bytesMin: number;
  readonly charsMax: number;
  readonly pattern: RegExp | undefined;

  constructor(options: StringOptions = {}) {
    super();
    this.bytesMax = optionInt('string bytesMax', options.bytesMax, Infinity);
    this.bytesMin = optionInt('string bytesMin', options.bytesMin, 0);
    this.charsMax = optionInt('string charsMax', options.charsMax, Infinity);
    this.pattern = options.pattern;
    if (this.pattern && (this.pattern.global || this.pattern.sticky)) throw new SchemaError('string pattern must not use the g or y flag');
  }

  check(v: unknown): Issue | undefined {
    if (typeof v !== 'string') return new Issue(`expected string, got ${describe(v)}`);
    // A UTF-16 unit takes 1 to 3 UTF-8 bytes: count bytes only when the bounds cannot decide.
    if (v.length * 3 > this.bytesMax && (v.length > this.bytesMax || Buffer.byteLength(v, 'utf8') > this.bytesMax)) {
      return new Issue(`string longer than ${this.bytesMax} bytes`);
    }
    if (v.length < this.bytesMin && Buffer.byteLength(v, 'utf8') < this.bytesMin) {
      return new Issue(`string shorter than ${this.bytesMin} bytes`);
    }
    if (v.length > this.charsMax) {
      let chars = 0;
      for (const _ of v) chars++;
      if (chars > this.charsMax) return new Issue(`string longer than ${this.charsMax} characters`);
    }
    if (this.pattern && !this.pattern.test(v)) return new Issue(`string does not match ${String(this.pattern)}`);
    return undefined;
  }
}

export class IntegerSchema extends Schema<number> {
  readonly kind = 'integer';
  constructor(
    readonly min: number,
    readonly max: number,
  ) {
    super();
    if (!Number.isSafeInteger(min) || !Number.isSafeInteger(max) || min > max) {
      throw new SchemaError(`integer range [${min}, ${max}] must be safe integers with min ≤ max`);
    }
  }

  check(v: unknown): Issue | undefined {
    if (typeof v !== 'number' || !Number.isSafeInteger(v)) return new Issue(`expected integer, got ${describe(v)}`);
    if (v < this.min || v > this.max) return new Issue(`integer ${v} outside [${this.min}, ${this.max}]`);
    return undefined;
  }
}

export interface NumberOptions {
  min?: number;
  max?: number;
  /** Accept NaN and ±Infinity (default false). */
  nonFinite?: boolean;
}

export class NumberSchema extends Schema<number> {
  readonly kind = 'number';
  constructor(readonly options: NumberOptions = {}) {
    super();
  }

  check(v: unknown): Issue | undefined {
    if (typeof v !== 'number') return new Issue(`expected number, got ${describe(v)}`);
    if (!this.options.nonFinite && !Number.isFinite(v)) return new Issue(`number ${v} is not finite`);
    const { min, max } = this.options;
    if ((min !== undefined && v < min) || (max !== undefined && v > max)) return new Issue(`number ${v} outside [${min ?? '-∞'}, ${max ?? '∞'}]`);
    return undefined;
  }
}

export class BooleanSchema extends Schema<boolean> {
  readonly kind = 'boolean';
  check(v: unknown): Issue | undefined {
    return typeof v === 'boolean' ? undefined : new Issue(`expected boolean, got ${describe(v)}`);
  }
}

export class NullSchema extends Schema<null> {
  readonly kind = 'null';
  check(v: unknown): Issue | undefined {
    return v === null ? undefined : new Issue(`expected null, got ${describe(v)}`);
  }
}

export interface BytesOptions {
  bytesMax?: number;
  bytesMin?: number;
  /** Exactly this many bytes (sets both bounds). */
  length?: number;
}

export class BytesSchema extends Schema<Uint8Array> {
  readonly kind = 'bytes';
  readonly bytesMax: number;
  readonly bytesMin: number;
  constructor(options: BytesOptions = {}) {
    super();
    this.bytesMax = optionInt('bytes bytesMax', options.length ?? options.bytesMax, Infinity);
    this.bytesMin = optionInt('bytes bytesMin', options.length ?? options.bytesMin, 0);
  }

  check(v: unknown): Issue | undefined {
    if (!(v instanceof Uint8Array)) return new Issue(`expected bytes, got ${describe(v)}`);
    if (v.length > this.bytesMax) return new Issue(`bytes longer than ${this.bytesMax}`);
    if (v.length < this.bytesMin) return new Issue(`bytes shorter than ${this.bytesMin}`);
    return undefined;
  }
}

export type LiteralValue = string | number | boolean | null;

export class LiteralSchema<V extends LiteralValue> extends Schema<V> {
  readonly kind = 'literal';
  constructor(readonly value: V) {
    super();
    if (typeof value === 'number' && !Number.isFinite(value)) throw new SchemaError('a literal number must be finite');
  }

  check(v: unknown): Issue | undefined {
    return v === this.value ? undefined : new Issue(`expected ${JSON.stringify(this.value)}, got ${describe(v)}`);
  }
}

export class EnumSchema<V extends string> extends Schema<V> {
  readonly kind = 'enum';
  private readonly members: ReadonlySet<string>;
  constructor(readonly values: readonly V[]) {
    super();
    if (values.length === 0) throw new SchemaError('an enum needs at least one value');
    this.members = new Set(values);
  }

  check(v: unknown): Issue | undefined {
    if (typeof v === 'string' && this.members.has(v)) return undefined;
    return new Issue(`expected one of ${this.values.map((x) => JSON.stringify(x)).join(', ')}`);
  }
}

export class ArraySchema<S extends Schema<unknown>> extends Schema<readonly Infer<S>[]> {
  readonly kind = 'array';
  constructor(
    readonly of: S,
    readonly lengthMax: number,
  ) {
    super();
    optionInt('array lengthMax', lengthMax, 0);
  }

  check(v: unknown, fromWire: boolean): Issue | undefined {
    if (!Array.isArray(v)) return new Issue(`expected array, got ${describe(v)}`);
    if (v.length > this.lengthMax) return new Issue(`array longer than ${this.lengthMax}`);
    if (fromWire && this.of instanceof AnySchema) return undefined;
    for (let i = 0; i < v.length; i++) {
      const issue = this.of.check(v[i], fromWire);
      if (issue) return issue.at(i);
    }
    return undefined;
  }
}

type InferTuple<T extends readonly Schema<unknown>[]> = { readonly [K in keyof T]: T[K] extends Schema<unknown> ? Infer<T[K]> : never };

export class TupleSchema<T extends readonly Schema<unknown>[]> extends Schema<InferTuple<T>> {
  readonly kind = 'tuple';
  constructor(readonly items: T) {
    super();
  }

  check(v: unknown, fromWire: boolean): Issue | undefined {
    if (!Array.isArray(v)) return new Issue(`expected array, got ${describe(v)}`);
    if (v.length !== this.items.length) return new Issue(`expected ${this.items.length} elements, got ${v.length}`);
    for (let i = 0; i < v.length; i++) {
      const issue = this.items[i]!.check(v[i], fromWire);
      if (issue) return issue.at(i);
    }
    return undefined;
  }
}

/** An object field that may be absent (or `undefined` before encoding). */
export class OptionalSchema<T> extends Schema<T | undefined> {
  readonly kind = 'optional';
  override readonly isOptional = true as const;
  constructor(readonly inner: Schema<T>) {
    super();
  }

  check(v: unknown, fromWire: boolean): Issue | undefined {
    return v === undefined ? undefined : this.inner.check(v, fromWire);
  }
}

export type Shape = { readonly [key: string]: Schema<unknown> };
type OptionalKeys<S extends Shape> = { [K in keyof S]-?: S[K] extends OptionalSchema<unknown> ? K : never }[keyof S];
type Simplify<T> = { [K in keyof T]: T[K] } & {};
export type InferShape<S extends Shape> = Simplify<
  { readonly [K in Exclude<keyof S, OptionalKeys<S>>]: Infer<S[K]> } & { readonly [K in OptionalKeys<S>]?: Infer<S[K]> }
>;

export interface ObjectOptions {
  /** `reject` (default): a key not in the shape fails the check. `allow`: ignored. */
  unknownKeys?: 'reject' | 'allow';
}

export class ObjectSchema<S extends Shape> extends Schema<InferShape<S>> {
  readonly kind = 'object';
  private readonly keys: readonly string[];
  private readonly fields: readonly Schema<unknown>[];
  private readonly rejectUnknown: boolean;

  constructor(
    readonly shape: S,
    options: ObjectOptions = {},
  ) {
    super();
    this.keys = Object.keys(shape);
    for (const k of this.keys) {
      if (k in Object.prototype || k === '__proto__') throw new SchemaError(`object field name ${JSON.stringify(k)} is reserved`);
    }
    this.fields = this.keys.map((k) => shape[k]!);
    this.rejectUnknown = (options.unknownKeys ?? 'reject') === 'reject';
  }

  check(v: unknown, fromWire: boolean): Issue | undefined {
    if (!isPlainObject(v)) return new Issue(`expected object, got ${describe(v)}`);
    const keys = this.keys;
    let present = 0;
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i]!;
      const field = this.fields[i]!;
      const value = v[key];
      if (value === undefined) {
        if (!field.isOptional) return new Issue('required field missing').at(key);
        continue;
      }
      present++;
      const issue = field.check(value, fromWire);
      if (issue) return issue.at(key);
    }
    if (!this.rejectUnknown) return undefined;
    let count = 0;
    for (const _ in v) count++;
    return count === present ? undefined : this.unknownKey(v);
  }

  /** Slow path: more keys than known fields set; name the first unknown one, if any. */
  private unknownKey(v: Record<string, unknown>): Issue | undefined {
    for (const k in v) {
      if (!Object.hasOwn(this.shape, k)) return new Issue('unknown field').at(k);
    }
    return undefined; // the difference came from known fields set to `undefined`
  }
}

export class UnionSchema<T extends readonly Schema<unknown>[]> extends Schema<Infer<T[number]>> {
  readonly kind = 'union';
  constructor(readonly options: T) {
    super();
    if (options.length === 0) throw new SchemaError('a union needs at least one variant');
  }

  check(v: unknown, fromWire: boolean): Issue | undefined {
    let first: Issue | undefined;
    for (const option of this.options) {
      const issue = option.check(v, fromWire);
      if (!issue) return undefined;
      first ??= issue;
    }
    return new Issue(`matches none of ${this.options.length} variants (first: ${first!.format()})`);
  }
}

/** A union of object schemas told apart by a string literal field (`tag`). */
export class TaggedUnionSchema<T extends readonly ObjectSchema<Shape>[]> extends Schema<Infer<T[number]>> {
  readonly kind = 'tagged-union';
  private readonly byTag = new Map<string, ObjectSchema<Shape>>();

  constructor(
    readonly tag: string,
    readonly variants: T,
  ) {
    super();
    for (const variant of variants) {
      const literal = variant.shape[tag];
      if (!(literal instanceof LiteralSchema) || typeof literal.value !== 'string') {
        throw new SchemaError(`every variant needs a string literal field ${JSON.stringify(tag)}`);
      }
      if (this.byTag.has(literal.value)) throw new SchemaError(`duplicate ${tag} ${JSON.stringify(literal.value)}`);
      this.byTag.set(literal.value, variant);
    }
  }

  check(v: unknown, fromWire: boolean): Issue | undefined {
    if (!isPlainObject(v)) return new Issue(`expected object, got ${describe(v)}`);
    const tag = v[this.tag];
    if (typeof tag !== 'string') return new Issue(`expected string tag, got ${describe(tag)}`).at(this.tag);
    const variant = this.byTag.get(tag);
    if (!variant) return new Issue(`unknown variant ${JSON.stringify(tag.slice(0, 64))}`).at(this.tag);
    return variant.check(v, fromWire);
  }
}

export interface RecordOptions {
  /** Entries, at most. */
  entriesMax: number;
  /** Constraint on the keys (default: any string). */
  key?: StringSchema;
}

export class RecordSchema<V extends Schema<unknown>> extends Schema<{ readonly [key: string]: Infer<V> }> {
  readonly kind = 'record';
  readonly entriesMax: number;
  constructor(
    readonly value: V,
    readonly options: RecordOptions,
  ) {
    super();
    this.entriesMax = optionInt('record entriesMax', options.entriesMax, 0);
  }

  check(v: unknown, fromWire: boolean): Issue | undefined {
    if (!isPlainObject(v)) return new Issue(`expected object, got ${describe(v)}`);
    let entries = 0;
    const keySchema = this.options.key;
    for (const k in v) {
      if (++entries > this.entriesMax) return new Issue(`more than ${this.entriesMax} entries`);
      const keyIssue = keySchema?.check(k);
      if (keyIssue) return new Issue(`key: ${keyIssue.message}`).at(k);
      const issue = this.value.check(v[k], fromWire);
      if (issue) return issue.at(k);
    }
    return undefined;
  }
}

/**
 * Any msgpack value. From the wire it is accepted as is (the scanner bounded it); before
 * encoding it is not walked either: the codec scans its own output with the decoder's rules, so
 * whatever msgpack cannot carry for us (undefined in arrays, Dates, cycles) fails at `encode`.
 */
export class AnySchema extends Schema<unknown> {
  readonly kind = 'any';
  check(): Issue | undefined {
    return undefined;
  }
}

const booleanSchema = new BooleanSchema();
const nullSchema = new NullSchema();
const anySchema = new AnySchema();

/** The schema constructors: `s.object({ … })`, `s.string({ bytesMax: 64 })`, … */
export const s = {
  string: (options?: StringOptions) => new StringSchema(options),
  /** Non-negative safe integer, at most `max`. */
  uint: (options: { max?: number; min?: number } = {}) => new IntegerSchema(options.min ?? 0, options.max ?? Number.MAX_SAFE_INTEGER),
  /** Safe integer in [min, max]. */
  int: (options: { min?: number; max?: number } = {}) =>
    new IntegerSchema(options.min ?? Number.MIN_SAFE_INTEGER, options.max ?? Number.MAX_SAFE_INTEGER),
  number: (options?: NumberOptions) => new NumberSchema(options),
  boolean: () => booleanSchema,
  null: () => nullSchema,
  bytes: (options?: BytesOptions) => new BytesSchema(options),
  literal: <const V extends LiteralValue>(value: V) => new LiteralSchema(value),
  enum: <const V extends string>(values: readonly [V, ...V[]]) => new EnumSchema<V>(values),
  array: <S extends Schema<unknown>>(of: S, options: { lengthMax: number }) => new ArraySchema(of, options.lengthMax),
  tuple: <const T extends readonly Schema<unknown>[]>(items: T) => new TupleSchema(items),
  object: <S extends Shape>(shape: S, options?: ObjectOptions) => new ObjectSchema(shape, options),
  optional: <T>(inner: Schema<T>) => new OptionalSchema(inner),
  union: <const T extends readonly Schema<unknown>[]>(options: T) => new UnionSchema(options),
  taggedUnion: <const T extends readonly ObjectSchema<Shape>[]>(tag: string, variants: T) => new TaggedUnionSchema(tag, variants),
  record: <V extends Schema<unknown>>(value: V, options: RecordOptions) => new RecordSchema(value, options),
  any: () => anySchema,
};

export type Validation<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly reason: string };

/** Checks an untrusted value (as if it came from the wire); `root` prefixes the path. */
export function validate<S extends Schema<unknown>>(schema: S, value: unknown, root = ''): Validation<Infer<S>> {
  const issue = schema.check(value, false);
  return issue ? { ok: false, reason: issue.format(root) } : { ok: true, value: value as Infer<S> };
}

/** Type guard form of `validate`. */
export function is<S extends Schema<unknown>>(schema: S, value: unknown): value is Infer<S> {
  return schema.check(value, false) === undefined;
}
