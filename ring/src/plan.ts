/**
 * Staged membership: riak_core's `cluster join/leave/remove/replace` → `plan` → `commit`.
 *
 * Ring membership never changes implicitly (not on gossip, not when SWIM declares a node dead):
 * an operator stages changes, looks at the plan — the next ring, which partitions move where,
 * and the balance — and commits it, which makes version + 1. Staged changes are plain data
 * (`Staged`), validated when staged and again when planned, because the ring may have moved on
 * in between (a change that no longer applies is refused with its reason, never half applied).
 *
 * - `join NODE [weight]`: NODE becomes a member. (The shell checks that NODE is a live core node
 *   in SWIM; the pure core only checks the ring.)
 * - `leave NODE`: NODE stops being a member after handing its partitions off (it is alive).
 * - `remove NODE`: NODE is dead; its partitions are rebuilt from the other replicas.
 * - `replace OLD NEW`: NEW takes OLD's place, weight and continuum token, so NEW inherits
 *   exactly OLD's partitions and nothing else moves.
 *
 * Each node appears in at most one staged change; the ring never drops to zero members; the
 * member count and total weight stay within their limits. Plans are pure functions of (ring,
 * staged, committer): the same inputs give the same plan on every node.
 */
import { StageError } from './errors.js';
import { balance, type Balance } from './balance.js';
import { membersMax, nodeNameBytesMax, stagedChangesMax, weightMax, weightTotalMax } from './limits.js';
import { nameProblem } from './names.js';
import { makeRing, type Ring, type RingMember } from './ring.js';

export type StagedChange =
  | { readonly kind: 'join'; readonly node: string; readonly weight: number }
  | { readonly kind: 'leave'; readonly node: string }
  | { readonly kind: 'remove'; readonly node: string }
  | { readonly kind: 'replace'; readonly node: string; readonly replacement: string };

/** A change as an operator asks for it (a join's weight defaults to 1). */
export type ChangeRequest = Exclude<StagedChange, { kind: 'join' }> | { readonly kind: 'join'; readonly node: string; readonly weight?: number };

export interface Staged {
  /** In the order they were staged; applied in this order. */
  readonly changes: readonly StagedChange[];
}

export type RingResult<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: StageError };

/** No staged changes (also what `clear` returns). */
export const nothingStaged: Staged = Object.freeze({ changes: Object.freeze([]) });

/** Drops every staged change. */
export function clear(): Staged {
  return nothingStaged;
}

/** Members and bookkeeping while staged changes are applied one by one. */
interface Draft {
  readonly members: Map<string, RingMember>;
  readonly touched: Map<string, StagedChange['kind']>;
}

const fail = (code: StageError['code'], message: string): StageError => new StageError(code, message);

function freshToken(members: Map<string, RingMember>, name: string): string {
  const used = new Set([...members.values()].map((m) => m.token));
  if (!used.has(name)) return name;
  for (let i = 2; ; i++) if (!used.has(`${name}~${i}`)) return `${name}~${i}`;
}

function alreadyStaged(draft: Draft, change: StagedChange): StageError | undefined {
  for (const node of change.kind === 'replace' ? [change.node, change.replacement] : [change.node]) {
    const earlier = draft.touched.get(node);
    if (earlier !== undefined) return fail('already-staged', `${node} already has a staged change (${earlier}); clear it first`);
  }
  return undefined;
}

function applyJoin(draft: Draft, node: string, weight: number): StageError | undefined {
  if (!Number.isInteger(weight) || weight < 1 || weight > weightMax) return fail('invalid-weight', `the weight of ${node} must be an integer from 1 to ${weightMax}`);
  if (draft.members.has(node)) return fail('already-member', `${node} is already a ring member`);
  if (draft.members.size >= membersMax) return fail('members-max', `the ring already has the most members allowed (${membersMax})`);
  const total = [...draft.members.values()].reduce((sum, m) => sum + m.weight, weight);
  if (total > weightTotalMax) return fail('invalid-weight', `the members' weights would add up to ${total}, more than the ${weightTotalMax} allowed`);
  draft.touched.set(node, 'join');
  draft.members.set(node, { name: node, weight, token: freshToken(draft.members, node) });
  return undefined;
}

function applyDeparture(draft: Draft, node: string, kind: 'leave' | 'remove'): StageError | undefined {
  if (!draft.members.has(node)) return fail('unknown-member', `${node} is not a ring member`);
  if (draft.members.size === 1) return fail('last-member', `${node} is the last ring member; a ring cannot be empty`);
  draft.touched.set(node, kind);
  draft.members.delete(node);
  return undefined;
}

function applyReplace(draft: Draft, node: string, replacement: string): StageError | undefined {
  const old = draft.members.get(node);
  if (old === undefined) return fail('unknown-member', `${node} is not a ring member`);
  if (draft.members.has(replacement)) return fail('already-member', `${replacement} is already a ring member`);
  draft.touched.set(node, 'replace');
  draft.touched.set(replacement, 'replace');
  draft.members.delete(node);
  draft.members.set(replacement, { name: replacement, weight: old.weight, token: old.token });
  return undefined;
}

function checkNames(change: StagedChange): StageError | undefined {
  const names = change.kind === 'replace' ? [change.node, change.replacement] : [change.node];
  for (const name of names) {
    const problem = nameProblem('a node name', name, nodeNameBytesMax);
    if (problem !== undefined) return fail('invalid-name', problem);
  }
  if (change.kind === 'replace' && change.node === change.replacement) return fail('invalid-name', `${change.node} cannot replace itself`);
  return undefined;
}

function applyChange(draft: Draft, change: StagedChange): StageError | undefined {
  const bad = checkNames(change) ?? alreadyStaged(draft, change);
  if (bad) return bad;
  switch (change.kind) {
    case 'join':
      return applyJoin(draft, change.node, change.weight);
    case 'leave':
    case 'remove':
      return applyDeparture(draft, change.node, change.kind);
    case 'replace':
      return applyReplace(draft, change.node, change.replacement);
    default:
      return assertNever(change);
  }
}

function assertNever(x: never): never {
  throw new TypeError(`unknown staged change ${JSON.stringify(x)}`);
}

/** Applies `changes` to the ring's members in order; the first one that does not apply fails. */
function applyAll(ring: Ring, changes: readonly StagedChange[]): RingResult<Draft> {
  const draft: Draft = { members: new Map(ring.members.map((m) => [m.name, m])), touched: new Map() };
  for (const change of changes) {
    const error = applyChange(draft, change);
    if (error) return { ok: false, error };
  }
  return { ok: true, value: draft };
}

function normalize(request: ChangeRequest): StagedChange {
  switch (request.kind) {
    case 'join':
      return Object.freeze({ kind: 'join', node: request.node, weight: request.weight ?? 1 });
    case 'leave':
    case 'remove':
      return Object.freeze({ kind: request.kind, node: request.node });
    case 'replace':
      return Object.freeze({ kind: 'replace', node: request.node, replacement: request.replacement });
    default:
      return assertNever(request);
  }
}

/** Adds one change to `staged` if it applies to `ring` after the changes already staged. */
export function stage(ring: Ring, staged: Staged, request: ChangeRequest): RingResult<Staged> {
  if (staged.changes.length >= stagedChangesMax) return { ok: false, error: fail('staged-max', `at most ${stagedChangesMax} changes can be staged at once`) };
  const change = normalize(request);
  const applied = applyAll(ring, [...staged.changes, change]);
  if (!applied.ok) return applied;
  return { ok: true, value: Object.freeze({ changes: Object.freeze([...staged.changes, change]) }) };
}

/** One partition whose owner set changes. */
export interface PlanMove {
  readonly partition: number;
  /** Owners before, primary first. */
  readonly from: readonly string[];
  /** Owners after, primary first. */
  readonly to: readonly string[];
}

export interface Plan {
  readonly changes: readonly StagedChange[];
  readonly nextRing: Ring;
  /** Partitions whose owner set changes, by partition. (A change of primary alone moves no data and is counted in `primaryChanges`.) */
  readonly moves: readonly PlanMove[];
  /** moves.length. */
  readonly movedPartitions: number;
  /** Replicas to copy: Σ over moves of |to \ from|. */
  readonly transfersCount: number;
  /** Partitions whose primary changes. */
  readonly primaryChanges: number;
  /** Members that hand off their own partitions before going (leave, and OLD of replace). */
  readonly leaving: readonly string[];
  /** Dead members whose partitions are rebuilt from the other replicas. */
  readonly removed: readonly string[];
  /** Balance of `nextRing`. */
  readonly balance: Balance;
}

function diffOwners(before: Ring, after: Ring): { moves: PlanMove[]; transfers: number; primaryChanges: number } {
  const moves: PlanMove[] = [];
  let transfers = 0;
  let primaryChanges = 0;
  for (let p = 0; p < before.partitionCount; p++) {
    const from = before.owners[p]!;
    const to = after.owners[p]!;
    if (from[0] !== to[0]) primaryChanges++;
    const added = to.filter((m) => !from.includes(m)).length;
    const dropped = from.filter((m) => !to.includes(m)).length;
    if (added === 0 && dropped === 0) continue;
    moves.push(Object.freeze({ partition: p, from, to }));
    transfers += added;
  }
  return { moves, transfers, primaryChanges };
}

/**
 * The ring that committing `staged` would make (version + 1, committed by `committer`), what
 * moves, and the balance. Fails with the first staged change that no longer applies, or with
 * 'nothing-staged'.
 */
export function plan(ring: Ring, staged: Staged, committer = ''): RingResult<Plan> {
  if (staged.changes.length === 0) return { ok: false, error: fail('nothing-staged', 'there are no staged changes to plan or commit') };
  const applied = applyAll(ring, staged.changes);
  if (!applied.ok) return applied;
  if (committer !== '') {
    const problem = nameProblem('the committer', committer, nodeNameBytesMax);
    if (problem !== undefined) return { ok: false, error: fail('invalid-name', problem) };
  }
  const nextRing = makeRing({
    clusterName: ring.clusterName,
    origin: ring.origin,
    partitionCount: ring.partitionCount,
    replication: ring.replication,
    version: ring.version + 1,
    committedBy: committer,
    members: [...applied.value.members.values()],
  });
  const { moves, transfers, primaryChanges } = diffOwners(ring, nextRing);
  const kinds = [...applied.value.touched];
  const leaving = kinds.filter(([node, kind]) => kind === 'leave' || (kind === 'replace' && !nextRing.members.some((m) => m.name === node))).map(([node]) => node);
  const removed = kinds.filter(([, kind]) => kind === 'remove').map(([node]) => node);
  return {
    ok: true,
    value: Object.freeze({
      changes: staged.changes,
      nextRing,
      moves: Object.freeze(moves),
      movedPartitions: moves.length,
      transfersCount: transfers,
      primaryChanges,
      leaving: Object.freeze(leaving.sort()),
      removed: Object.freeze(removed.sort()),
      balance: balance(nextRing),
    }),
  };
}

/** The next ring: `plan(ring, staged, committer).nextRing`. The caller then drops its staged changes. */
export function commit(ring: Ring, staged: Staged, committer = ''): RingResult<Ring> {
  const planned = plan(ring, staged, committer);
  return planned.ok ? { ok: true, value: planned.value.nextRing } : planned;
}
