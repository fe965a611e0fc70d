/**
 * Named errors of the actor runtime. Two kinds (STYLE.md, habit 5):
 * - expected failures a caller handles (a query timed out, its target is gone, a node is down)
 *   are named errors carrying the facts as fields, so `instanceof` and `err.name` both work;
 * - misuse of the API (an invalid name, a duplicate name, spawning under a stopped actor) throws
 *   at once, synchronously, with one sentence saying what was wrong.
 */
import type { DeadLetterReason } from './dead-letters.js';

/** An actor name that is empty, too long, reserved (`$…`) or has characters outside the set. */
export class ActorNameError extends Error {
  override name = 'ActorNameError';
}

/** `spawn` with an explicit name that a live sibling already has. */
export class DuplicateActorNameError extends Error {
  override name = 'DuplicateActorNameError';
}

/** `spawn` under a parent that is stopped or never existed. */
export class ActorStoppedError extends Error {
  override name = 'ActorStoppedError';
}

/** A local-only operation (spawn, stop) given a ref on another node. */
export class NotLocalError extends Error {
  override name = 'NotLocalError';
}

/** Something that is not an `ActorRef` (or a malformed `{ node, path }`) where a ref is needed. */
export class InvalidRefError extends Error {
  override name = 'InvalidRefError';
}

/** A bad option or argument (a missing query timeout, a negative `mailboxMax`…). */
export class ActorConfigError extends Error {
  override name = 'ActorConfigError';
}

/** The system was stopped: no spawn, and pending queries fail with this. */
export class SystemStoppedError extends Error {
  override name = 'SystemStoppedError';
}

/** A query that got no reply within its timeout. */
export class QueryTimeoutError extends Error {
  override name = 'QueryTimeoutError';
  constructor(
    readonly target: string,
    readonly timeoutMs: number,
  ) {
    super(`query to ${target} timed out after ${timeoutMs} ms`);
  }
}

/** A query whose message could not be delivered (its target is stopped, unknown, full, unroutable). */
export class UndeliverableError extends Error {
  override name = 'UndeliverableError';
  constructor(
    readonly target: string,
    readonly reason: DeadLetterReason,
  ) {
    super(`query to ${target} was not delivered: ${describeReason(reason)}`);
  }
}

/** A query to an actor on a node that went down before it replied. */
export class NodeDownError extends Error {
  override name = 'NodeDownError';
  constructor(
    readonly target: string,
    readonly node: string,
  ) {
    super(`query to ${target} failed: node ${node} is down`);
  }
}

/** A remote router's outbound queue to a node is full: the message was not accepted. */
export class OutboundQueueFullError extends Error {
  override name = 'OutboundQueueFullError';
}

export function describeReason(reason: DeadLetterReason): string {
  switch (reason) {
    case 'stopped':
      return 'the actor is stopped';
    case 'unknown':
      return 'no such actor';
    case 'mailbox-full':
      return 'its mailbox is full';
    case 'query-closed':
      return 'the query already ended';
    case 'no-route':
      return 'no route to its node';
    case 'nobody':
      return 'it is nobody';
    case 'unencodable':
      return 'it could not be encoded for the wire (over a size or nesting limit)';
    default:
      return assertNever(reason);
  }
}

export function assertNever(x: never): never {
  throw new Error(`unexpected value ${String(x)}`);
}
