/**
 * Configuration of the stateful ring: every knob with its unit, default and reason; validated
 * once (`ringConfig`) and frozen. Presets: `production` (the defaults) and `test` (short
 * intervals for the simulator, where time is free but events are not).
 */
import { handoffBatchItemsMax, handoffConcurrencyMax, listPageMax } from './limits.js';

export interface RingConfig {
  /** Default time a quorum request may take, ms. A write that times out may still be applied. */
  readonly requestTimeoutMs: number;
  /**
   * A read asks R replicas first; still unanswered after this, ms, it asks the rest too
   * (read-round.ts). Near the read p99 of a loaded cluster (~10 ms measured here), so the extra
   * requests stay a tail event; lower trades load for tail latency.
   */
  readonly readHedgeMs: number;
  /** Digest gossip to one random member, ms (pushes on change are immediate). */
  readonly gossipIntervalMs: number;
  /** How often handoff looks for work (hinted owners back up, transfers to run), ms. */
  readonly handoffIntervalMs: number;
  /** Handoff sessions running at once on this node (≤ handoffConcurrencyMax). */
  readonly handoffConcurrency: number;
  /** Records per handoff batch (≤ handoffBatchItemsMax). */
  readonly handoffBatchItems: number;
  /** Time a receiver may take to persist one handoff batch, ms. */
  readonly handoffBatchTimeoutMs: number;
  /** One anti-entropy exchange per interval per node, ms. */
  readonly aaeIntervalMs: number;
  /** Records read per hash-tree build step of one vnode (one step per vnode per aae interval). */
  readonly aaeBuildRecordsPerStep: number;
  /** Keys one exchange repairs at most (bounds the records and bytes read per interval). */
  readonly aaeKeysPerExchange: number;
  /**
   * How long a vnode's anti-entropy tree is trusted, ms: after this it is rebuilt from storage in
   * the background (the same bounded steps as the build after a start), beside the live tree,
   * which it replaces when done. The tree is only updated by the vnode's own writes; a rebuild is
   * what notices storage that changed under it (a bug, a restored file, damage) — riak_kv's
   * `anti_entropy_expire`, a week by default there too. Costs a second tree while it runs.
   */
  readonly aaeTreeExpiryMs: number;
  /** How often the reaper looks for old tombstones, ms. */
  readonly reapIntervalMs: number;
  /**
   * How long a tombstone is kept after the delete, ms, before it may be reaped (and only once
   * every replica holds it). Must exceed the longest time a fallback can hold a pre-delete copy
   * before handing it back (docs/ring.md, "Tombstones").
   */
  readonly tombstoneGraceMs: number;
  /** Page size of a list when the caller gives none. */
  readonly listPageDefault: number;
  /**
   * How far nodes' wall clocks may disagree, ms. A command arriving later than its deadline
   * plus this is refused (messages.ts); keep it well under tombstoneGraceMs.
   */
  readonly clockSkewMaxMs: number;
}

export const productionConfig: RingConfig = Object.freeze({
  requestTimeoutMs: 5_000,
  readHedgeMs: 20,
  gossipIntervalMs: 1_000,
  handoffIntervalMs: 2_000,
  handoffConcurrency: 2,
  handoffBatchItems: 256,
  handoffBatchTimeoutMs: 30_000,
  aaeIntervalMs: 5_000,
  aaeBuildRecordsPerStep: 2_000,
  aaeKeysPerExchange: 256,
  aaeTreeExpiryMs: 7 * 24 * 3_600_000,
  reapIntervalMs: 60_000,
  // A week: hinted handoff normally returns data within seconds of the owner coming back, and
  // a node that is away for longer must not come back with pre-delete copies (docs/ring.md).
  tombstoneGraceMs: 7 * 24 * 3_600_000,
  listPageDefault: 100,
  clockSkewMaxMs: 1_000,
});

/** For the simulator: everything an order of magnitude faster. */
export const testConfig: RingConfig = Object.freeze({
  requestTimeoutMs: 1_000,
  readHedgeMs: 20,
  gossipIntervalMs: 500,
  handoffIntervalMs: 500,
  handoffConcurrency: 2,
  handoffBatchItems: 64,
  handoffBatchTimeoutMs: 2_000,
  aaeIntervalMs: 500,
  aaeBuildRecordsPerStep: 500,
  aaeKeysPerExchange: 64,
  // Short, so that simulated runs rebuild trees while they write, hand off and crash.
  aaeTreeExpiryMs: 20_000,
  reapIntervalMs: 1_000,
  tombstoneGraceMs: 5_000,
  listPageDefault: 50,
  clockSkewMaxMs: 100,
});

export const ringPresets = Object.freeze({ production: productionConfig, test: testConfig });

function positive(name: keyof RingConfig, v: number, max = Number.MAX_SAFE_INTEGER): void {
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0 || v > max) throw new RangeError(`ring config ${name} must be a positive number${max < Number.MAX_SAFE_INTEGER ? ` ≤ ${max}` : ''}, got ${String(v)}`);
}

/** A validated, frozen configuration: `base` (default production) with `overrides`. */
export function ringConfig(overrides: Partial<RingConfig> = {}, base: RingConfig = productionConfig): RingConfig {
  const c = { ...base, ...overrides };
  for (const k of Object.keys(c) as (keyof RingConfig)[]) positive(k, c[k]);
  positive('handoffConcurrency', c.handoffConcurrency, handoffConcurrencyMax);
  positive('listPageDefault', c.listPageDefault, listPageMax);
  positive('handoffBatchItems', c.handoffBatchItems, handoffBatchItemsMax);
  if (!Number.isInteger(c.handoffConcurrency)) throw new RangeError('ring config handoffConcurrency must be an integer');
  return Object.freeze(c);
}
