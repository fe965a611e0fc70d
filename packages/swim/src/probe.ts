/**
 * One protocol period's probe (SWIM §3.1 with Lifeguard §IV): ping one member; if no ack within
 * the (health-scaled) probe timeout, ask `indirectChecks` others to ping it for us, with nacks
 * requested; if no ack by the end of the (health-scaled) period, suspect it. Pure data: the core
 * decides from `now` which step is due. One refinement: once every helper has sent its nack, the
 * probe fails at once instead of at the end of the period (nothing else can still come but a
 * direct ack later than helpers' whole nack window, which is the failure being detected).
 */

export interface ProbeState {
  seq: number;
  target: string;
  targetAddr: string;
  /** Direct ack deadline; after it, indirect probes go out. */
  timeoutAtMs: number;
  /** End of the protocol period; without any ack by then the probe failed. */
  endAtMs: number;
  indirectSent: boolean;
  expectedNacks: number;
  nacks: number;
  acked: boolean;
}

/** An indirect probe we perform for another member (we are the helper). */
export interface IndirectProbe {
  requesterAddr: string;
  requesterSeq: number;
  deadlineMs: number;
  nack: boolean;
}

export type ProbeStep = 'wait' | 'send-indirect' | 'fail' | 'done';

export function probeStep(p: ProbeState, nowMs: number): ProbeStep {
  if (p.acked) return 'done';
  if (nowMs >= p.endAtMs) return 'fail';
  // Every helper answered that it could not reach the target either: the evidence is complete.
  if (p.indirectSent && p.expectedNacks > 0 && p.nacks >= p.expectedNacks) return 'fail';
  if (!p.indirectSent && nowMs >= p.timeoutAtMs) return 'send-indirect';
  return 'wait';
}

export function probeDeadline(p: ProbeState): number {
  if (p.acked) return Infinity;
  return p.indirectSent ? p.endAtMs : p.timeoutAtMs;
}
