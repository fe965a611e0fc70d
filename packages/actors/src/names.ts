/**
 * Actor and node names, and the reserved path segments.
 *
 * Explicit actor names use nact's character set (RFC 1738 unreserved: letters, digits and
 * `-_.+!*'(),$`) but may not start with `$`: names starting with `$` are the runtime's. That is
 * what makes anonymous names collision-free: they are `$1`, `$2`, … from one counter per
 * system, and no explicit name can take one. (nact draws anonymous names at random and
 * collides 2–4 times per 100k spawns.) Query temp refs live under `$query/<id>`, and the
 * "nobody" sender is `$nobody`; neither is a real actor.
 */
import { ActorNameError } from './errors.js';

/** Longest actor or node name, in characters. */
export const nameLengthMax = 128;
/** Deepest actor tree (root = 0): a runaway recursive spawn fails instead of eating memory. */
export const depthMax = 64;

export const queryPrefix = '$query';
export const nobodyName = '$nobody';

const explicitName = /^[A-Za-z0-9\-_.+!*'(),][A-Za-z0-9\-_.+!*'(),$]*$/;
const nodeNamePattern = /^[A-Za-z0-9\-_.:@]+$/;

/** Validates an explicit actor name and returns it; throws `ActorNameError` otherwise. */
export function checkActorName(name: unknown): string {
  if (typeof name !== 'string') throw new ActorNameError(`actor name must be a string, got ${typeof name}`);
  if (name.length > nameLengthMax) throw new ActorNameError(`actor name is longer than ${nameLengthMax} characters`);
  if (!explicitName.test(name)) {
    throw new ActorNameError(
      `invalid actor name ${JSON.stringify(name)}: use letters, digits and -_.+!*'(),$ (not first: names starting with $ are reserved)`,
    );
  }
  return name;
}

/** The n-th anonymous name of a system (n ≥ 1). */
export function anonymousName(n: number): string {
  return `$${n}`;
}

/** Validates a node name (a system's name): letters, digits and `-_.:@`, at most `nameLengthMax`. */
export function checkNodeName(name: unknown): string {
  if (typeof name !== 'string' || name.length === 0 || name.length > nameLengthMax || !nodeNamePattern.test(name)) {
    throw new ActorNameError(`invalid node name ${JSON.stringify(name)}: use 1–${nameLengthMax} letters, digits and -_.:@`);
  }
  return name;
}

/** `String.prototype.isWellFormed` (ES2024, in Node ≥ 20; our lib setting is ES2022): no lone surrogate. */
export function isWellFormedString(s: string): boolean {
  return (s as unknown as { isWellFormed(): boolean }).isWellFormed();
}

/**
 * A path segment read from the outside (refFromJSON): any non-empty, well-formed string without
 * `/`. Well-formed because a ref's names go on the wire as UTF-8 (a lone surrogate cannot), so
 * every ref is sendable from the moment it exists and frames need not check their refs.
 */
export function isPathSegment(s: unknown): s is string {
  return typeof s === 'string' && s.length > 0 && s.length <= nameLengthMax && !s.includes('/') && isWellFormedString(s);
}
