/**
 * Lifeguard's local-health-aware suspicion (Dadgar et al. 2017, §IV-B), as memberlist computes it.
 *
 * A suspicion starts with a timeout at `max` and shrinks toward `min` as independent members
 * confirm it: after c confirmations the timeout is
 *     max(min, max − log(c + 1) / log(k + 1) × (max − min))
 * where k is the number of confirmations expected (suspicionMult − 2, or 0 when the cluster is
 * too small to provide them, in which case the timeout is `min` at once). A member we falsely
 * suspect therefore has up to `max` to refute, while a really dead one is declared fast once k
 * others agree.
 */

/** The suspicion timeout bounds for a cluster of `n` members. */
export function suspicionBoundsMs(suspicionMult: number, maxTimeoutMult: number, probeIntervalMs: number, n: number): { minMs: number; maxMs: number } {
  const nodeScale = Math.max(1, Math.log10(Math.max(1, n)));
  const minMs = suspicionMult * nodeScale * probeIntervalMs;
  return { minMs, maxMs: maxTimeoutMult * minMs };
}

/** Confirmations expected before the timeout reaches its minimum. */
export function expectedConfirmations(suspicionMult: number, n: number): number {
  const k = suspicionMult - 2;
  // With fewer than k other members able to confirm (n minus us and the suspect), do not wait for them.
  return n - 2 < k ? 0 : Math.max(0, k);
}

/** Total suspicion timeout after `confirmations` independent confirmations. */
export function suspicionTimeoutMs(confirmations: number, k: number, minMs: number, maxMs: number): number {
  if (k < 1) return minMs;
  const frac = Math.log(confirmations + 1) / Math.log(k + 1);
  const raw = maxMs - frac * (maxMs - minMs);
  return Math.max(minMs, Math.floor(raw));
}

/** A live suspicion of one member: who confirmed it and when it expires. */
export class Suspicion {
  private readonly confirmers = new Set<string>();

  constructor(
    readonly startedMs: number,
    readonly k: number,
    readonly minMs: number,
    readonly maxMs: number,
    from: string,
  ) {
    // The member that raised the suspicion does not count as a confirmation of it.
    this.confirmers.add(from);
  }

  get confirmations(): number {
    return this.confirmers.size - 1;
  }

  /** Records a confirmation from `from`; true if it was new (and shortened the timeout). */
  confirm(from: string): boolean {
    if (this.confirmations >= this.k || this.confirmers.has(from)) return false;
    this.confirmers.add(from);
    return true;
  }

  deadlineMs(): number {
    return this.startedMs + suspicionTimeoutMs(this.confirmations, this.k, this.minMs, this.maxMs);
  }
}
