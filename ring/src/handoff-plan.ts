/**
 * Handoff planning: which of this node's vnodes should send their data where, now. Pure: the
 * handoff shell (handoff.ts) calls it on every tick with what it knows and runs the tasks.
 *
 * One rule keeps data safe whatever the views of the ring: **a node drops a partition only
 * after handing everything it holds of it to nodes it believes own it** (who, if they turn out
 * not to own it, hand it on by the same rule). So data moves towards the owners and is never
 * the last copy dropped. On top of that rule, the kinds of handoff:
 *
 * - ownership: this node is a source of pending transfers of p (transfers.ts). It sends to
 *   those targets (and to hinted owners, below) and, if it no longer owns p, drops p after.
 *   Every target must be up: a leaving node waits for a target that is down (an operator who
 *   knows it is dead removes it, and the new plan names other targets).
 * - hinted: this node holds p as a fallback (not an owner, no transfer). It sends to the owners
 *   it stood in for (its hints) once they are all up, then drops p. If none of them owns p any
 *   more (the ring changed meanwhile), it sends to the owners that are up (at least one).
 * - repair: this node owns p and is a source of transfers to new owners (a removed node's
 *   copy is rebuilt from the staying ones). It sends to the targets that are up and keeps p.
 *
 * Pending transfers from this node of partitions it holds nothing of are done at once.
 * At most `concurrencyMax` sessions run at once; ownership tasks go first, then hinted, then
 * repair, each in partition order (deterministic).
 */
import type { Liveness } from './preflist.js';
import type { Ring } from './ring.js';
import { pendingTransfers, transfersBelongTo, type Transfer, type TransferState } from './transfers.js';

export interface LocalVnodeInfo {
  readonly partition: number;
  /** Holds at least one record (committed or being written). */
  readonly hasData: boolean;
  /** The owners this vnode stood in for as a fallback (persisted with the vnode). */
  readonly hints: readonly string[];
  /** A handoff session is running on it. */
  readonly busy: boolean;
}

export type HandoffKind = 'ownership' | 'hinted' | 'repair';

export interface HandoffTask {
  readonly partition: number;
  readonly kind: HandoffKind;
  /** Sorted, distinct, never the node itself. */
  readonly targets: readonly string[];
  /** Drop the partition once every target has everything. */
  readonly drop: boolean;
  /** Transfers this task completes (marked done when it finishes). */
  readonly transfers: readonly Transfer[];
}

export interface HandoffPlanInput {
  readonly self: string;
  readonly ring: Ring;
  readonly transfers: TransferState | undefined;
  readonly vnodes: readonly LocalVnodeInfo[];
  readonly isUp: Liveness;
  /** Sessions running now. */
  readonly running: number;
  readonly concurrencyMax: number;
}

export interface HandoffPlan {
  readonly start: readonly HandoffTask[];
  /** Transfers from this node of partitions it holds nothing of: done now. */
  readonly doneWithoutData: readonly Transfer[];
  /** Tasks that wait, with the reason (for `cluster transfers`). */
  readonly waiting: readonly { readonly partition: number; readonly reason: string }[];
}

const kindOrder: Record<HandoffKind, number> = { ownership: 0, hinted: 1, repair: 2 };

function sorted(names: Iterable<string>): string[] {
  return [...new Set(names)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

type Decision = HandoffTask | { readonly wait: string } | undefined;

function decide(input: HandoffPlanInput, v: LocalVnodeInfo, mine: readonly Transfer[]): Decision {
  const { self, ring, isUp } = input;
  const owners = ring.owners[v.partition] ?? [];
  const isOwner = owners.includes(self);
  const transferTargets = sorted(mine.map((t) => t.to).filter((n) => n !== self));
  const hinted = sorted(v.hints.filter((h) => owners.includes(h) && h !== self));
  if (isOwner) {
    const up = transferTargets.filter((n) => isUp(n));
    if (up.length === 0) return transferTargets.length > 0 ? { wait: `targets ${transferTargets.join(', ')} are down` } : undefined;
    return { partition: v.partition, kind: 'repair', targets: up, drop: false, transfers: mine.filter((t) => up.includes(t.to)) };
  }
  if (transferTargets.length > 0) {
    const targets = sorted([...transferTargets, ...hinted]);
    const down = targets.filter((n) => !isUp(n));
    if (down.length > 0) return { wait: `targets ${down.join(', ')} are down` };
    return { partition: v.partition, kind: 'ownership', targets, drop: true, transfers: mine };
  }
  if (hinted.length > 0) {
    const down = hinted.filter((n) => !isUp(n));
    if (down.length > 0) return { wait: `hinted owners ${down.join(', ')} are down` };
    return { partition: v.partition, kind: 'hinted', targets: hinted, drop: true, transfers: [] };
  }
  const up = owners.filter((n) => n !== self && isUp(n));
  if (up.length === 0) return { wait: 'no owner is up' };
  return { partition: v.partition, kind: 'hinted', targets: sorted(up), drop: true, transfers: [] };
}

/** What to start now (module header). */
export function planHandoffs(input: HandoffPlanInput): HandoffPlan {
  const state = input.transfers !== undefined && transfersBelongTo(input.transfers, input.ring) ? input.transfers : undefined;
  const mineAll = state ? pendingTransfers(state).filter((t) => t.from === input.self) : [];
  const withData = new Map(input.vnodes.filter((v) => v.hasData).map((v) => [v.partition, v]));
  const doneWithoutData = mineAll.filter((t) => !withData.has(t.partition));
  const candidates: HandoffTask[] = [];
  const waiting: { partition: number; reason: string }[] = [];
  for (const v of [...withData.values()].sort((a, b) => a.partition - b.partition)) {
    if (v.busy) continue;
    const d = decide(input, v, mineAll.filter((t) => t.partition === v.partition));
    if (d === undefined) continue;
    if ('wait' in d) waiting.push({ partition: v.partition, reason: d.wait });
    else candidates.push(d);
  }
  candidates.sort((a, b) => kindOrder[a.kind] - kindOrder[b.kind] || a.partition - b.partition);
  const room = Math.max(0, input.concurrencyMax - input.running);
  return { start: candidates.slice(0, room), doneWithoutData, waiting };
}
