/**
 * System configuration: every knob with its unit, default and reason; validated once at
 * `start()` and frozen. Per-actor overrides (`mailboxMax`, `restart`) go through the same
 * checks at spawn.
 */
import type { Clock, Logger, Random } from '@shoal/runtime';
import { ActorConfigError } from './errors.js';
import { checkNodeName } from './names.js';
import { defaultRestartPolicy, type RestartPolicy } from './supervision.js';

export interface StartOptions {
  /** This node's name; every ref carries it. Default `'local'`. */
  name?: string;
  clock?: Clock;
  random?: Random;
  /** Default: JSON lines at `warn` on stderr. */
  logger?: Logger;
  /** Messages an actor's mailbox may hold; more become dead letters (`mailbox-full`). */
  mailboxMax?: number;
  /** Messages processed per event-loop turn, over all actors, before yielding to I/O. */
  messagesPerTurnMax?: number;
  /** Messages one actor processes in a row before the next actor in the run queue gets a turn. */
  messagesPerRunMax?: number;
  /** Default restart policy of every actor (an actor's `restart` prop overrides fields). */
  restart?: Partial<RestartPolicy>;
  /** Dead letters logged (at debug) per window; the rest are counted and summarised. */
  deadLetterLogBurstMax?: number;
  deadLetterLogWindowMs?: number;
}

export interface SystemConfig {
  readonly name: string;
  readonly mailboxMax: number;
  readonly messagesPerTurnMax: number;
  readonly messagesPerRunMax: number;
  readonly restart: RestartPolicy;
  readonly deadLetterLogBurstMax: number;
  readonly deadLetterLogWindowMs: number;
}

export const defaultConfig: SystemConfig = Object.freeze({
  name: 'local',
  // 100k messages of ~200 B is ~20 MB for one actor: enough to absorb a burst, small enough
  // that a stuck consumer shows up as dead letters instead of an out-of-memory crash.
  mailboxMax: 100_000,
  // 10k messages is 2–5 ms of work at the measured rates: I/O callbacks wait at most that long.
  messagesPerTurnMax: 10_000,
  // Fairness between busy actors inside one turn; large enough that the per-run overhead vanishes.
  messagesPerRunMax: 256,
  restart: defaultRestartPolicy,
  deadLetterLogBurstMax: 10,
  deadLetterLogWindowMs: 1_000,
});

export function checkCount(what: string, v: unknown, min: number): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) {
    throw new ActorConfigError(`${what} must be an integer ≥ ${min}, got ${String(v)}`);
  }
  return v;
}

export function checkDurationMs(what: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
    throw new ActorConfigError(`${what} must be a finite number of milliseconds ≥ 0, got ${String(v)}`);
  }
  return v;
}

/** Merges and validates a restart policy override. */
export function restartPolicy(base: RestartPolicy, over: Partial<RestartPolicy> | undefined): RestartPolicy {
  if (over === undefined) return base;
  const p = { ...base, ...over };
  if (p.maxRestarts !== Infinity) checkCount('restart.maxRestarts', p.maxRestarts, 0);
  checkDurationMs('restart.withinMs', p.withinMs);
  checkDurationMs('restart.backoffMinMs', p.backoffMinMs);
  checkDurationMs('restart.backoffMaxMs', p.backoffMaxMs);
  if (p.backoffMaxMs < p.backoffMinMs) throw new ActorConfigError('restart.backoffMaxMs must be ≥ restart.backoffMinMs');
  if (typeof p.backoffJitter !== 'number' || !(p.backoffJitter >= 0 && p.backoffJitter <= 1)) {
    throw new ActorConfigError(`restart.backoffJitter must be in [0, 1], got ${String(p.backoffJitter)}`);
  }
  return Object.freeze(p);
}

export function makeConfig(opts: StartOptions): SystemConfig {
  return Object.freeze({
    name: checkNodeName(opts.name ?? defaultConfig.name),
    mailboxMax: checkCount('mailboxMax', opts.mailboxMax ?? defaultConfig.mailboxMax, 1),
    messagesPerTurnMax: checkCount('messagesPerTurnMax', opts.messagesPerTurnMax ?? defaultConfig.messagesPerTurnMax, 1),
    messagesPerRunMax: checkCount('messagesPerRunMax', opts.messagesPerRunMax ?? defaultConfig.messagesPerRunMax, 1),
    restart: restartPolicy(defaultConfig.restart, opts.restart),
    deadLetterLogBurstMax: checkCount('deadLetterLogBurstMax', opts.deadLetterLogBurstMax ?? defaultConfig.deadLetterLogBurstMax, 0),
    deadLetterLogWindowMs: checkDurationMs('deadLetterLogWindowMs', opts.deadLetterLogWindowMs ?? defaultConfig.deadLetterLogWindowMs),
  });
}
