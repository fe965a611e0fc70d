/**
 * Buckets: what a bucket's records are (a record schema from @shoal/crdt) and how many
 * replicas a request on it asks (N) and waits for (R, W). Defaults N = 3, R = 2, W = 2
 * (DESIGN.md §3), clipped on each request to the replicas the ring actually has.
 *
 * Every node must register the same buckets with the same schemas (the domain does it in code
 * at start): a replica decodes, merges and re-encodes records with its own copy of the schema,
 * and handoff stalls — it never drops data — on a record of a bucket it does not know.
 *
 * The generic bucket type (`jsonRecord`) is the maintenance interface's (FiFo's
 * `sniffle-admin db`): one field `value`, a JSON value in an LWW register. A registry made with
 * `generic: true` serves any bucket name that is not registered and matches
 * `genericBucketPattern` with it, so `shoal db put scratch k '{…}'` needs no registration.
 */
import { defineRecord, kind, type RecordSchema } from '@shoal/crdt';
import { UnknownBucketError } from './errors.js';
import { bucketBytesMax, replicationMax } from './limits.js';

export interface BucketSpec {
  readonly name: string;
  readonly schema: RecordSchema;
  /** Replicas (≤ the ring's N). Default 3. */
  readonly n: number;
  /** Answers a read waits for. Default 2. */
  readonly r: number;
  /** Acknowledgements a write waits for (the coordinator's own included). Default 2. */
  readonly w: number;
  /** True for buckets of the generic JSON type. */
  readonly generic: boolean;
  /** For a typed bucket: how operators change its records, said when the maintenance interface refuses them. */
  readonly changedThrough?: string;
}

export type BucketOptions = Partial<Pick<BucketSpec, 'n' | 'r' | 'w' | 'changedThrough'>>;

export const bucketDefaults = Object.freeze({ n: 3, r: 2, w: 2 });

/** The generic record: `{ value: <JSON> }`, last writer wins. */
export const jsonRecord = defineRecord('json', { value: kind.lww('plain') });

/** Names the generic type accepts: lowercase, digits, `.`, `_`, `-`; 1 … 64 characters. */
export const genericBucketPattern = /^[a-z0-9][a-z0-9._-]{0,63}$/;

function checkQuorum(what: string, v: number, n: number): void {
  if (!Number.isInteger(v) || v < 1 || v > n) throw new RangeError(`${what} must be an integer from 1 to N (${n})`);
}

export class BucketRegistry {
  private readonly specs = new Map<string, BucketSpec>();

  constructor(private readonly opts: { readonly generic?: boolean } = {}) {}

  /** Registers a bucket; throws RangeError on a bad name or quorum, or if it exists with another schema. */
  define(name: string, schema: RecordSchema, options: BucketOptions = {}): BucketSpec {
    if (name.length === 0 || Buffer.byteLength(name) > bucketBytesMax || /[\u0000-\u001f]/.test(name)) throw new RangeError(`bucket name ${JSON.stringify(name)} must be 1 to ${bucketBytesMax} bytes without control characters`);
    const n = options.n ?? bucketDefaults.n;
    if (!Number.isInteger(n) || n < 1 || n > replicationMax) throw new RangeError(`N must be an integer from 1 to ${replicationMax}`);
    const r = options.r ?? Math.min(bucketDefaults.r, n);
    const w = options.w ?? Math.min(bucketDefaults.w, n);
    checkQuorum('R', r, n);
    checkQuorum('W', w, n);
    const existing = this.specs.get(name);
    if (existing && existing.schema !== schema) throw new RangeError(`bucket ${name} is already registered with schema ${existing.schema.name}`);
    const spec: BucketSpec = Object.freeze({ name, schema, n, r, w, generic: schema === jsonRecord, ...(options.changedThrough !== undefined ? { changedThrough: options.changedThrough } : {}) });
    this.specs.set(name, spec);
    return spec;
  }

  /** The spec of `name`, or of the generic type when allowed; UnknownBucketError otherwise. */
  resolve(name: string): BucketSpec {
    const spec = this.specs.get(name);
    if (spec) return spec;
    if (this.opts.generic && genericBucketPattern.test(name)) return this.define(name, jsonRecord);
    throw new UnknownBucketError(`there is no bucket ${JSON.stringify(name)}${this.opts.generic ? ' (generic bucket names are lowercase letters, digits, ".", "_" and "-")' : ''}`);
  }

  /** The spec of `name` if it resolves, else undefined (replicas use this: they never throw on peer data). */
  tryResolve(name: string): BucketSpec | undefined {
    try {
      return this.resolve(name);
    } catch {
      return undefined;
    }
  }

  list(): BucketSpec[] {
    return [...this.specs.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }
}
