// Runs a random script of operations, deliveries and full-state syncs on three replicas of one
// CRDT type, checking the delta law at every operation; the result feeds the law properties.
import fc from 'fast-check';
import { hlc } from '@shoal/crdt';
import type { Hlc } from '@shoal/crdt';
import type { Subject } from './subjects.js';

export const replicaCount = 3;

export type Step =
  | { readonly kind: 'op'; readonly at: number; readonly wallMs: number; readonly op: unknown }
  | { readonly kind: 'deliver'; readonly at: number; readonly delta: number }
  | { readonly kind: 'sync'; readonly at: number; readonly from: number };

export function stepArb(opArb: fc.Arbitrary<unknown>): fc.Arbitrary<Step> {
  const at = fc.integer({ min: 0, max: replicaCount - 1 });
  return fc.oneof(
    { weight: 5, arbitrary: fc.record({ kind: fc.constant('op' as const), at, wallMs: fc.integer({ min: 0, max: 40 }), op: opArb }) },
    { weight: 3, arbitrary: fc.record({ kind: fc.constant('deliver' as const), at, delta: fc.nat() }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('sync' as const), at, from: fc.integer({ min: 0, max: replicaCount - 1 }) }) },
  );
}

export interface Run<S> {
  readonly states: S[];
  readonly deltas: { readonly from: number; readonly delta: S }[];
  /** Operations whose `merge(before, delta)` differed from the state after the operation. */
  readonly deltaLawFailures: number;
}

export function runScript<S>(subject: Subject<S>, steps: readonly Step[]): Run<S> {
  const states: S[] = Array.from({ length: replicaCount }, () => subject.empty);
  const clocks: Hlc[] = Array.from({ length: replicaCount }, (_, i) => hlc.hlcZero(`n${i}`));
  const deltas: { from: number; delta: S }[] = [];
  let deltaLawFailures = 0;
  for (const step of steps) {
    const before = states[step.at] as S;
    if (step.kind === 'op') {
      clocks[step.at] = hlc.tick(clocks[step.at] as Hlc, step.wallMs);
      const { state, delta } = subject.apply(before, step.op, { stamp: clocks[step.at] as Hlc });
      if (!subject.equals(subject.merge(before, delta), state) || !subject.equals(subject.merge(state, delta), state)) deltaLawFailures++;
      states[step.at] = state;
      deltas.push({ from: step.at, delta });
    } else if (step.kind === 'deliver') {
      if (deltas.length > 0) states[step.at] = subject.merge(before, (deltas[step.delta % deltas.length] as { delta: S }).delta);
    } else {
      states[step.at] = subject.merge(before, states[step.from] as S);
    }
  }
  return { states, deltas, deltaLawFailures };
}

export function runArb<S>(subject: Subject<S>, maxLength = 24): fc.Arbitrary<Run<S>> {
  return fc.array(stepArb(subject.op), { maxLength }).map((steps) => runScript(subject, steps));
}
