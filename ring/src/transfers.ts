/**
 * Transfer state: which partitions are still moving after a commit, riak_core's `next` list.
 *
 * A commit changes ownership at once (the next ring's owners are derived from its members), but
 * the data follows by handoff. Until it has, the old owners still hold writes the new owners
 * lack. The transfer state says, for the committed ring, which copies are still owed:
 * transfers `(partition, from, to)`, each pending or done. Coordinators read it to send
 * requests to the old holders as well as the new owners, and to not count a new owner that is
 * still receiving towards a read quorum (routing.ts); handoff reads it to know whom to send a
 * partition to (handoff-plan.ts); operators read it as `cluster transfers`.
 *
 * Computing the transfers of a commit (prev → next, per partition p):
 *   holders   = owners_prev(p) ∪ sources of transfers of p still pending before the commit
 *   departing = holders − owners_next(p) − removed nodes       (alive, they hand off their copy)
 *   arrivals  = (owners_next(p) − owners_prev(p)) ∪ (targets still receiving that stay owners)
 *   - departing ≠ ∅: each departing holder sends to every arrival (to every next owner if none
 *     arrives: its copy may hold writes the others lack);
 *   - departing = ∅, arrivals ≠ ∅ (the leaver was removed, dead): each staying owner sends to
 *     every arrival ("repair": the dead node's copy is rebuilt from the other replicas).
 *   riak_core moves one copy per replica; sending from every departing or staying holder costs
 *   more bytes when several replicas move at once, and in exchange a new owner that finished
 *   receiving holds everything its sources held.
 *
 * The state travels with the ring: it belongs to one ring (version and hash), the list is fixed
 * by the committer, and only the `done` marks grow (a grow-only set of indexes), so two copies
 * of the state of one ring merge by union. A state for another ring is not merged: the newer
 * ring's state wins with it. A committer that had not yet heard that some transfer finished
 * lists it again; its source then holds nothing for it and marks it done at once.
 *
 * Safety never rests on this state being current: a node that is not an owner of a partition
 * hands whatever it holds of it to the owners before dropping it (handoff-plan.ts). The state
 * only makes coordinators read and write where the data is while it moves.
 */
import { invariant } from './errors.js';
import { membersMax } from './limits.js';
import type { Ring } from './ring.js';

export interface Transfer {
  readonly partition: number;
  readonly from: string;
  readonly to: string;
}

export interface TransferState {
  /** The ring this state belongs to. */
  readonly version: number;
  readonly hash: string;
  /** Sorted by (partition, from, to); fixed for the ring. */
  readonly transfers: readonly Transfer[];
  /** Indexes into `transfers` of the finished ones, ascending. */
  readonly done: readonly number[];
  /**
   * Nodes that were members of an earlier ring and are not of this one (left, removed or
   * replaced), sorted, at most `membersMax`: they may still hold fallback data, which the
   * reaper must ask them about (reaper.ts). A node that joins again is no longer departed.
   */
  readonly departed: readonly string[];
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function compareTransfers(a: Transfer, b: Transfer): number {
  return a.partition - b.partition || compareStrings(a.from, b.from) || compareStrings(a.to, b.to);
}

/** The state of a ring nothing is moving to (a bootstrapped ring). */
export function noTransfers(ring: Pick<Ring, 'version' | 'hash'>): TransferState {
  return Object.freeze({ version: ring.version, hash: ring.hash, transfers: Object.freeze([]), done: Object.freeze([]), departed: Object.freeze([]) });
}

/** Whether `state` belongs to `ring`. */
export function transfersBelongTo(state: TransferState, ring: Pick<Ring, 'version' | 'hash'>): boolean {
  return state.version === ring.version && state.hash === ring.hash;
}

/** The transfers not yet done. */
export function pendingTransfers(state: TransferState): Transfer[] {
  const done = new Set(state.done);
  return state.transfers.filter((_, i) => !done.has(i));
}

function sortedUnique(names: Iterable<string>): string[] {
  return [...new Set(names)].sort(compareStrings);
}

/** The transfers one partition needs for the commit prev → next (module header). */
function partitionTransfers(p: number, prevOwners: readonly string[], nextOwners: readonly string[], pending: readonly Transfer[], removed: ReadonlySet<string>): Transfer[] {
  const sources = pending.map((t) => t.from);
  const receiving = pending.map((t) => t.to);
  const holders = sortedUnique([...prevOwners, ...sources]);
  const departing = holders.filter((m) => !nextOwners.includes(m) && !removed.has(m));
  const arrivals = sortedUnique([...nextOwners.filter((m) => !prevOwners.includes(m)), ...receiving.filter((m) => nextOwners.includes(m))]).filter((m) => !removed.has(m));
  const out: Transfer[] = [];
  if (departing.length > 0) {
    const targets = arrivals.length > 0 ? arrivals : sortedUnique(nextOwners);
    for (const from of departing) for (const to of targets) if (from !== to) out.push({ partition: p, from, to });
  } else if (arrivals.length > 0) {
    const stayers = sortedUnique(nextOwners.filter((m) => prevOwners.includes(m) && !arrivals.includes(m)));
    for (const from of stayers) for (const to of arrivals) out.push({ partition: p, from, to });
  }
  return out;
}

/**
 * The transfer state of `next`, committed on top of `prev` whose state was `prevState`
 * (undefined or another ring's: nothing pending). `removed` are the nodes the commit removed
 * (dead: they send nothing).
 */
export function transfersAfterCommit(prev: Ring, prevState: TransferState | undefined, next: Ring, removed: readonly string[] = []): TransferState {
  invariant(prev.partitionCount === next.partitionCount, 'a commit never changes the partition count');
  const pending = prevState !== undefined && transfersBelongTo(prevState, prev) ? pendingTransfers(prevState) : [];
  const byPartition = new Map<number, Transfer[]>();
  for (const t of pending) {
    const list = byPartition.get(t.partition);
    if (list) list.push(t);
    else byPartition.set(t.partition, [t]);
  }
  const gone = new Set(removed);
  const transfers: Transfer[] = [];
  for (let p = 0; p < next.partitionCount; p++) {
    transfers.push(...partitionTransfers(p, prev.owners[p]!, next.owners[p]!, byPartition.get(p) ?? [], gone));
  }
  transfers.sort(compareTransfers);
  const members = new Set(next.members.map((m) => m.name));
  const before = prevState !== undefined && transfersBelongTo(prevState, prev) ? prevState.departed : [];
  const departed = sortedUnique([...before, ...prev.members.map((m) => m.name)].filter((n) => !members.has(n))).slice(-membersMax);
  return Object.freeze({ version: next.version, hash: next.hash, transfers: Object.freeze(transfers.map((t) => Object.freeze(t))), done: Object.freeze([]), departed: Object.freeze(departed) });
}

/** Index of a transfer in the state, or −1 (binary search: `transfers` is sorted). */
export function transferIndex(state: TransferState, t: Transfer): number {
  let lo = 0;
  let hi = state.transfers.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    const c = compareTransfers(state.transfers[mid]!, t);
    if (c === 0) return mid;
    if (c < 0) lo = mid + 1;
    else hi = mid;
  }
  return -1;
}

function withDone(state: TransferState, done: Iterable<number>): TransferState {
  const all = [...new Set([...state.done, ...done])].sort((a, b) => a - b);
  if (all.length === state.done.length) return state;
  return Object.freeze({ ...state, done: Object.freeze(all) });
}

/** Marks transfers done (ones the state does not list are ignored). Returns `state` if nothing changed. */
export function markTransfersDone(state: TransferState, finished: readonly Transfer[]): TransferState {
  const indexes = finished.map((t) => transferIndex(state, t)).filter((i) => i >= 0);
  return withDone(state, indexes);
}

/**
 * Joins two states. Of the same ring: the union of their done marks. Of different rings:
 * `state` as it is (which ring wins is chooseRing's decision, made before). Lists of different
 * lengths for one ring are not expected (the committer fixes the list, and a malformed state is
 * refused, never replaced by an empty one: manager-core.ts `transfersFromPeer`); should they
 * meet, the longer one is kept, as the committer's list is never shorter than a stand-in.
 */
export function mergeTransferStates(state: TransferState, other: TransferState): TransferState {
  if (state.version !== other.version || state.hash !== other.hash) return state;
  if (state.transfers.length !== other.transfers.length) return state.transfers.length > other.transfers.length ? state : other;
  return withDone(state, other.done);
}

/** Nodes that still owe partition `p` a copy (pending sources), sorted. */
export function pendingSources(state: TransferState, p: number): string[] {
  return sortedUnique(pendingTransfers(state).filter((t) => t.partition === p).map((t) => t.from));
}

/** Owners of `p` still waiting for a copy (pending targets), sorted. */
export function pendingTargets(state: TransferState, p: number): string[] {
  return sortedUnique(pendingTransfers(state).filter((t) => t.partition === p).map((t) => t.to));
}

/** A compact index of the pending transfers, for routing on every request. */
export interface TransferIndex {
  readonly state: TransferState;
  /** partition → pending sources / targets. */
  readonly sources: ReadonlyMap<number, readonly string[]>;
  readonly targets: ReadonlyMap<number, readonly string[]>;
  readonly pendingCount: number;
}

export function indexTransfers(state: TransferState): TransferIndex {
  const sources = new Map<number, string[]>();
  const targets = new Map<number, string[]>();
  const pending = pendingTransfers(state);
  for (const t of pending) {
    const s = sources.get(t.partition) ?? [];
    if (!s.includes(t.from)) s.push(t.from);
    sources.set(t.partition, s);
    const d = targets.get(t.partition) ?? [];
    if (!d.includes(t.to)) d.push(t.to);
    targets.set(t.partition, d);
  }
  return { state, sources, targets, pendingCount: pending.length };
}

export interface TransfersSummary {
  readonly version: number;
  readonly total: number;
  readonly done: number;
  readonly pending: number;
  /** Pending transfers by source node, then by target. */
  readonly byNode: readonly { readonly node: string; readonly sending: number; readonly receiving: number }[];
  readonly pendingList: readonly Transfer[];
}

/** What `cluster transfers` prints. */
export function summarizeTransfers(state: TransferState): TransfersSummary {
  const pending = pendingTransfers(state);
  const nodes = new Map<string, { sending: number; receiving: number }>();
  const get = (n: string): { sending: number; receiving: number } => {
    let v = nodes.get(n);
    if (!v) nodes.set(n, (v = { sending: 0, receiving: 0 }));
    return v;
  };
  for (const t of pending) {
    get(t.from).sending++;
    get(t.to).receiving++;
  }
  return {
    version: state.version,
    total: state.transfers.length,
    done: state.done.length,
    pending: pending.length,
    byNode: [...nodes.entries()].sort(([a], [b]) => compareStrings(a, b)).map(([node, v]) => ({ node, ...v })),
    pendingList: pending,
  };
}

/**
 * A plain, unfrozen deep copy for the wire. (The actor transport may rebind refs inside a
 * message in place when it bounces one, which throws on frozen objects.)
 */
export function transfersToData(state: TransferState): TransferState {
  return { version: state.version, hash: state.hash, transfers: state.transfers.map((t) => ({ partition: t.partition, from: t.from, to: t.to })), done: [...state.done], departed: [...state.departed] };
}

/** Validates a transfer state from storage or a peer; returns why it is not one, or undefined. */
export function transferStateProblem(x: unknown, partitionCount: number): string | undefined {
  if (typeof x !== 'object' || x === null) return 'a transfer state must be an object';
  const s = x as Partial<TransferState>;
  if (!Number.isSafeInteger(s.version) || typeof s.hash !== 'string') return 'a transfer state needs a ring version and hash';
  if (!Array.isArray(s.transfers) || !Array.isArray(s.done)) return 'a transfer state needs transfers and done lists';
  if (!Array.isArray(s.departed) || s.departed.length > membersMax || !s.departed.every((d) => typeof d === 'string')) return 'a transfer state needs a list of departed nodes';
  for (let i = 0; i < s.transfers.length; i++) {
    const t = s.transfers[i] as Partial<Transfer> | undefined;
    if (typeof t !== 'object' || t === null || !Number.isInteger(t.partition) || (t.partition as number) < 0 || (t.partition as number) >= partitionCount) return `transfer ${i} names no valid partition`;
    if (typeof t.from !== 'string' || typeof t.to !== 'string') return `transfer ${i} needs from and to`;
    if (i > 0 && compareTransfers(s.transfers[i - 1] as Transfer, t as Transfer) >= 0) return 'transfers are not sorted';
  }
  for (let i = 0; i < s.done.length; i++) {
    const d = s.done[i];
    if (!Number.isInteger(d) || (d as number) < 0 || (d as number) >= s.transfers.length || (i > 0 && (s.done[i - 1] as number) >= (d as number))) return 'done marks are not ascending indexes of transfers';
  }
  return undefined;
}
