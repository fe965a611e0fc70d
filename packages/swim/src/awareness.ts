/**
 * Lifeguard's local health ("awareness") score: how much this member doubts itself.
 *
 * A member that misses acks and nacks, has to refute suspicions of itself, or finds its own
 * timers firing late is probably the slow one; Lifeguard (Dadgar et al. 2017, §IV-A) has it
 * stretch its probe interval and timeout by (score + 1) so that it accuses others less while it
 * is unhealthy. The score lives in [0, healthMax − 1]; successes bring it down by one. Sources:
 * Dadgar, Phillips, Currey 2017 (Lifeguard) §IV-A; memberlist awareness.go and probeNode.
 */

export function applyHealthDelta(score: number, delta: number, healthMax: number): number {
  return Math.min(healthMax - 1, Math.max(0, score + delta));
}

/** A timeout or interval stretched by the local health score. */
export function scaleByHealth(ms: number, score: number): number {
  return ms * (score + 1);
}

/**
 * The health penalty of a failed probe. With peers that were asked to send nacks, count only the
 * nacks that did not come (they show that *we* could not hear them); with none, penalize by one.
 */
export function failedProbeDelta(expectedNacks: number, nacksReceived: number): number {
  if (expectedNacks <= 0) return 1;
  return Math.max(0, expectedNacks - nacksReceived);
}

/**
 * The health penalty of event-loop lag (our extension of Lifeguard's local health): a timer
 * that fired `lagMs` late means this process could not have heard anyone for that long, so it
 * doubts itself by one step per protocol period it lost (at least one).
 */
export function lagDelta(lagMs: number, probeIntervalMs: number): number {
  return Math.max(1, Math.ceil(lagMs / probeIntervalMs));
}

/**
 * A helper asked for an indirect probe with a nack sends the nack after this fraction of its
 * probe timeout without an ack (Lifeguard §IV-A has the helper answer before the requester's
 * period ends; at 100 % the nack would land after the requester gave up and always count as
 * missing).
 */
export const nackTimeoutFraction = 0.8;
