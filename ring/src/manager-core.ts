/**
 * The ring manager's pure core: what a node's cluster state becomes when a ring arrives by
 * gossip, when a digest arrives, and when this node commits. The manager actor (manager.ts) is
 * the shell that persists, publishes and sends.
 *
 * State: the committed ring (undefined until this node bootstraps or is joined), its transfer
 * state, and this node's staged changes (staged changes are local to the node where they were
 * staged, as in riak_core where they live on the claimant).
 *
 * Adoption (`receiveRing`): a node without a ring adopts any ring of its cluster (that is how a
 * joined node learns it was joined); a node with one adopts a ring only if `chooseRing` prefers
 * it — newer version, or the same version with a higher content hash (a concurrent commit) —
 * and refuses rings of another cluster, origin, P or N. The same ring merges transfer states
 * (union of done marks).
 *
 * Commit (`commitStaged`): this node's staged changes on its current ring → version + 1,
 * committed by this node, with the transfer state computed from the previous one. Commits are
 * expected on one node at a time (the operator's "claimant"). If two nodes commit the same
 * version concurrently, every node converges on the one with the higher hash; the other
 * committer adopts it and records `lostCommit`, and its changes — already cleared from its
 * staged list — must be staged and committed again (status shows it).
 */
import { compareRings, makeRing, type Ring, type RingData } from './ring.js';
import { RingConfigError, RingMismatchError, type StageError } from './errors.js';
import { nothingStaged, plan, type Plan, type Staged } from './plan.js';
import { mergeTransferStates, noTransfers, transferStateProblem, transfersAfterCommit, transfersBelongTo, type TransferState } from './transfers.js';

export interface ClusterState {
  readonly ring: Ring | undefined;
  readonly transfers: TransferState | undefined;
  readonly staged: Staged;
  /** Set when a commit of this node lost to a concurrent one. */
  readonly lostCommit: { readonly version: number; readonly winner: string } | undefined;
}

export const emptyClusterState: ClusterState = Object.freeze({ ring: undefined, transfers: undefined, staged: nothingStaged, lostCommit: undefined });

export type ReceiveOutcome = 'adopted' | 'merged' | 'same' | 'older' | 'refused';

export interface Received {
  readonly state: ClusterState;
  readonly outcome: ReceiveOutcome;
  /** Why a ring was refused. */
  readonly reason?: string;
}

/** Ring data from a peer made into a ring, or why it is not one. */
export function ringFromPeer(data: unknown): { ring: Ring } | { reason: string } {
  try {
    return { ring: makeRing(data as RingData) };
  } catch (err) {
    if (err instanceof RingConfigError) return { reason: err.message };
    return { reason: `malformed ring: ${String(err)}` };
  }
}

/**
 * The transfer state that came with `ring` (from a peer, or stored with it), or why it is not
 * one. A malformed state is never replaced by the empty one: "nothing is moving" would make
 * coordinators count owners still receiving towards R and forget old holders, and the reaper
 * forget departed nodes that may hold fallback data (transfers.ts). Nor can the state be
 * rebuilt: it is computed from the previous ring (`transfersAfterCommit`), which is not kept.
 * So the caller refuses it: a peer's gossip is dropped, a stored one stops the start.
 */
export function transfersFromPeer(x: unknown, ring: Ring): { transfers: TransferState } | { reason: string } {
  const problem = transferStateProblem(x, ring.partitionCount);
  if (problem !== undefined) return { reason: problem };
  const t = x as TransferState;
  // A ring and its state travel and are stored together: a state of another ring is damage.
  if (!transfersBelongTo(t, ring)) return { reason: `the transfer state is of another ring (version ${t.version}, hash ${JSON.stringify(t.hash.slice(0, 16))}) than the one it came with (version ${ring.version}, hash ${JSON.stringify(ring.hash.slice(0, 16))})` };
  return { transfers: t };
}

/** What `state` becomes when `incoming` (with its transfer state) arrives (module header). */
export function receiveRing(state: ClusterState, self: string, clusterName: string, incoming: Ring, incomingTransfers: TransferState): Received {
  const current = state.ring;
  if (current === undefined) {
    if (incoming.clusterName !== clusterName) return { state, outcome: 'refused', reason: `ring of cluster ${incoming.clusterName}, not ${clusterName}` };
    return { state: { ...state, ring: incoming, transfers: incomingTransfers }, outcome: 'adopted' };
  }
  let c: number;
  try {
    c = compareRings(incoming, current);
  } catch (err) {
    if (err instanceof RingMismatchError) return { state, outcome: 'refused', reason: err.message };
    throw err;
  }
  if (c > 0) {
    const lost = current.committedBy === self && current.version === incoming.version ? { version: current.version, winner: incoming.committedBy } : state.lostCommit;
    return { state: { ...state, ring: incoming, transfers: incomingTransfers, lostCommit: lost }, outcome: 'adopted' };
  }
  if (c < 0) return { state, outcome: 'older' };
  const mine = state.transfers ?? noTransfers(current);
  const merged = mergeTransferStates(mine, incomingTransfers);
  return merged === mine ? { state, outcome: 'same' } : { state: { ...state, transfers: merged }, outcome: 'merged' };
}

export interface Digest {
  readonly cluster: string;
  readonly version: number;
  readonly hash: string;
  /** Count and sum of the done marks: equal sets give equal digests. */
  readonly done: number;
  readonly doneSum: number;
}

export function digestOf(state: ClusterState, cluster: string): Digest | undefined {
  if (!state.ring) return undefined;
  const done = state.transfers?.done ?? [];
  return { cluster, version: state.ring.version, hash: state.ring.hash, done: done.length, doneSum: done.reduce((a, b) => a + b, 0) };
}

/**
 * What to do with a peer's digest: `push` ours (theirs is older or differs), `pull` theirs
 * (ours is older), both (same ring, different done marks), or nothing.
 */
export function compareDigest(state: ClusterState, cluster: string, theirs: Digest): { push: boolean; pull: boolean } {
  if (theirs.cluster !== cluster) return { push: false, pull: false };
  const ours = digestOf(state, cluster);
  if (!ours) return { push: false, pull: true };
  if (ours.version !== theirs.version) return ours.version > theirs.version ? { push: true, pull: false } : { push: false, pull: true };
  if (ours.hash !== theirs.hash) return ours.hash > theirs.hash ? { push: true, pull: false } : { push: false, pull: true };
  if (ours.done === theirs.done && ours.doneSum === theirs.doneSum) return { push: false, pull: false };
  if (ours.done > theirs.done) return { push: true, pull: false };
  if (ours.done < theirs.done) return { push: false, pull: true };
  return { push: true, pull: true };
}

export type CommitResult = { readonly ok: true; readonly state: ClusterState; readonly plan: Plan } | { readonly ok: false; readonly error: StageError };

/** Commits this node's staged changes (module header). The caller checks there is a ring. */
export function commitStaged(state: ClusterState, self: string): CommitResult {
  const ring = state.ring!;
  const planned = plan(ring, state.staged, self);
  if (!planned.ok) return planned;
  const next = planned.value.nextRing;
  const transfers = transfersAfterCommit(ring, state.transfers, next, planned.value.removed);
  return { ok: true, state: { ring: next, transfers, staged: nothingStaged, lostCommit: undefined }, plan: planned.value };
}

/** Nodes to gossip with: ring members and every party to a pending transfer, but not `self`. */
export function gossipTargets(state: ClusterState, self: string, extra: readonly string[] = []): string[] {
  const names = new Set<string>(extra);
  for (const m of state.ring?.members ?? []) names.add(m.name);
  const t = state.transfers;
  if (t) {
    const done = new Set(t.done);
    t.transfers.forEach((x, i) => {
      if (done.has(i)) return;
      names.add(x.from);
      names.add(x.to);
    });
  }
  names.delete(self);
  return [...names].sort();
}
