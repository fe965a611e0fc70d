/**
 * Named errors of @shoal/ring (STYLE.md habit 5).
 *
 * Expected failures — a staged change that does not apply, a key that is too long, a ring from
 * another cluster — are named errors with one clear sentence and a stable `code` for the API
 * to map onto HTTP statuses; stage/plan/commit return them as values. A broken invariant inside
 * the ownership computation is a bug and throws `RingInvariantError` (crash, do not limp on).
 */

/** Ring data that is not a valid ring (bad P or N, duplicate member, weight out of range …). */
export class RingConfigError extends Error {
  override name = 'RingConfigError';
}

/** Two rings that cannot be compared: different cluster, origin, partition count or N. */
export class RingMismatchError extends Error {
  override name = 'RingMismatchError';
  constructor(
    readonly field: 'clusterName' | 'origin' | 'partitionCount' | 'replication',
    message: string,
  ) {
    super(message);
  }
}

/** A bucket or key that cannot be placed on the ring (too long, not well-formed UTF-16). */
export class InvalidKeyError extends Error {
  override name = 'InvalidKeyError';
}

/** Why a staged change (or a plan/commit of staged changes) was refused. */
export type StageErrorCode =
  | 'invalid-name'
  | 'invalid-weight'
  | 'already-member'
  | 'unknown-member'
  | 'already-staged'
  | 'last-member'
  | 'members-max'
  | 'staged-max'
  | 'nothing-staged';

/** A staged membership change that cannot apply to the ring it was staged against. */
export class StageError extends Error {
  override name = 'StageError';
  constructor(
    readonly code: StageErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** A broken invariant of the ring core: a bug, never an expected outcome. */
export class RingInvariantError extends Error {
  override name = 'RingInvariantError';
}

/** Assertion as an executable comment (TigerBeetle style). */
export function invariant(condition: boolean, message: string): asserts condition {
  if (!condition) throw new RingInvariantError(message);
}

// ── errors of the stateful ring: each one sentence for the API (`code` maps to an HTTP status) ──

/** The stable codes of store and cluster failures (the API maps them to statuses). */
export type RingErrorCode =
  | 'no-quorum'
  | 'timeout'
  | 'not-found'
  | 'deleted'
  | 'invalid-key'
  | 'invalid-operation'
  | 'unknown-bucket'
  | 'invalid-continuation'
  | 'incomplete-coverage'
  | 'no-ring'
  | 'not-up'
  | 'refused';

/** Base of the store's and the ring manager's expected failures. */
export class RingError extends Error {
  override name = 'RingError';
  constructor(
    readonly code: RingErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** Fewer replicas than the quorum could be asked, or too many of them failed. */
export class NoQuorumError extends RingError {
  override name = 'NoQuorumError';
  constructor(message: string) {
    super('no-quorum', message);
  }
}

/** The quorum did not answer within the request's time. The write may still have been applied. */
export class QuorumTimeoutError extends RingError {
  override name = 'QuorumTimeoutError';
  constructor(message: string) {
    super('timeout', message);
  }
}

/** An update to a record that was deleted (delete is final until its tombstone is reaped). */
export class DeletedError extends RingError {
  override name = 'DeletedError';
  constructor(message: string) {
    super('deleted', message);
  }
}

/** Operations that do not fit the bucket's schema, or a value over a CRDT limit. */
export class InvalidOperationError extends RingError {
  override name = 'InvalidOperationError';
  constructor(message: string) {
    super('invalid-operation', message);
  }
}

/** A bucket that is not registered (and not eligible for the generic JSON type). */
export class UnknownBucketError extends RingError {
  override name = 'UnknownBucketError';
  constructor(message: string) {
    super('unknown-bucket', message);
  }
}

/** A continuation token that this service did not issue for this bucket. */
export class InvalidContinuationError extends RingError {
  override name = 'InvalidContinuationError';
  constructor(message: string) {
    super('invalid-continuation', message);
  }
}

/** Some partitions have no up owner, so a coverage query cannot see them. */
export class IncompleteCoverageError extends RingError {
  override name = 'IncompleteCoverageError';
  constructor(
    readonly uncovered: readonly number[],
    message: string,
  ) {
    super('incomplete-coverage', message);
  }
}

/** This node has no ring yet (it neither bootstrapped a cluster nor was joined to one). */
export class NoRingError extends RingError {
  override name = 'NoRingError';
  constructor(message: string) {
    super('no-ring', message);
  }
}
