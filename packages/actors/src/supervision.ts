/**
 * Supervision, the pure part: nact's decision symbols, and Erlang's restart intensity with an
 * exponential backoff between restarts.
 *
 * Decisions. A crash handler (`onCrash`, nact's) returns one of ten symbols it finds on its
 * context (`ctx.reset`, `ctx.escalate`, …). `decisionKind` maps a symbol to a string kind so the
 * shell (supervisor.ts) can switch on it exhaustively; an unknown value (including `undefined`
 * from a handler that forgot to return) maps to `undefined`, which the shell treats as
 * `escalate` — nact's `default:` branch does the same.
 *
 * Restart intensity (OTP supervisor `intensity`/`period`): an actor may be restarted at most
 * `maxRestarts` times within any `withinMs` window. The history is the list of restart times
 * still inside the window, so it never holds more than `maxRestarts` entries. When one more
 * restart would exceed the limit, the crash escalates to the parent instead.
 *
 * Backoff: the first restart in a window is immediate (as in Erlang); the k-th (k ≥ 2) waits
 *   delay(k) = min(backoffMaxMs, backoffMinMs · 2^(k−2)) · (1 + backoffJitter · u),  u ∈ [0, 1)
 * clamped again to backoffMaxMs. Jitter spreads the restarts of many actors that failed
 * together (a shared dependency went away) so they do not retry in lockstep.
 */

export const decisions = Object.freeze({
  /** Stop the crashed actor (and its children). */
  stop: Symbol('stop'),
  /** Stop the crashed actor and all its siblings. */
  stopAll: Symbol('stopAll'),
  /** (In a parent's handler) stop the child that escalated. */
  stopChild: Symbol('stopChild'),
  /** (In a parent's handler) stop all of this actor's children. */
  stopAllChildren: Symbol('stopAllChildren'),
  /** Hand the crash to the parent's handler, with this actor as `child`. */
  escalate: Symbol('escalate'),
  /** Drop the failed message and go on with the same state. */
  resume: Symbol('resume'),
  /** Restart: stop the children, reinitialise the state, go on with the next message. */
  reset: Symbol('reset'),
  /** Restart the crashed actor and all its siblings. */
  resetAll: Symbol('resetAll'),
  /** (In a parent's handler) restart the child that escalated. */
  resetChild: Symbol('resetChild'),
  /** (In a parent's handler) restart all of this actor's children. */
  resetAllChildren: Symbol('resetAllChildren'),
});

export type DecisionKind = keyof typeof decisions;
export type Decision = (typeof decisions)[DecisionKind];

const kinds = new Map<unknown, DecisionKind>(
  (Object.keys(decisions) as DecisionKind[]).map((k) => [decisions[k], k]),
);

/** The kind of a decision symbol, or undefined for anything else. */
export function decisionKind(decision: unknown): DecisionKind | undefined {
  return kinds.get(decision);
}

export interface RestartPolicy {
  /** Restarts allowed within `withinMs` before the crash escalates (OTP `intensity`). Default 5. */
  readonly maxRestarts: number;
  /** The sliding window for `maxRestarts`, in ms (OTP `period`). Default 10 000. */
  readonly withinMs: number;
  /** Delay before the second restart in a window, in ms; doubles for each later one. Default 100. */
  readonly backoffMinMs: number;
  /** Longest delay between restarts, in ms. Default 5 000. */
  readonly backoffMaxMs: number;
  /** Extra random delay, as a fraction of the delay (0 = none). Default 0.1. */
  readonly backoffJitter: number;
}

export const defaultRestartPolicy: RestartPolicy = Object.freeze({
  maxRestarts: 5,
  withinMs: 10_000,
  backoffMinMs: 100,
  backoffMaxMs: 5_000,
  backoffJitter: 0.1,
});

/** Delay before the `attempt`-th restart in a window (attempt ≥ 1); `u` is uniform in [0, 1). */
export function restartDelayMs(attempt: number, policy: RestartPolicy, u: number): number {
  if (attempt <= 1) return 0;
  const base = Math.min(policy.backoffMaxMs, policy.backoffMinMs * 2 ** (attempt - 2));
  return Math.min(policy.backoffMaxMs, base * (1 + policy.backoffJitter * u));
}

export type RestartPlan =
  | { readonly kind: 'restart'; readonly attempt: number; readonly delayMs: number; readonly history: readonly number[] }
  | { readonly kind: 'exceeded'; readonly history: readonly number[] };

/**
 * Decides whether an actor whose past restarts are `history` (times in ms, ascending) may be
 * restarted at `nowMs`. Returns the new history either way (old entries pruned).
 */
export function planRestart(history: readonly number[], nowMs: number, policy: RestartPolicy, u: number): RestartPlan {
  const since = nowMs - policy.withinMs;
  const recent = history.filter((t) => t > since);
  if (recent.length >= policy.maxRestarts) return { kind: 'exceeded', history: recent };
  const attempt = recent.length + 1;
  recent.push(nowMs);
  return { kind: 'restart', attempt, delayMs: restartDelayMs(attempt, policy, u), history: recent };
}
