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
