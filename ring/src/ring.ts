/**
 * Ring state: riak_core's ring as pure data (ring in, ring out), written by one writer.
 *
 * A ring is the committed membership of the cluster — cluster name, partition count P (a power
 * of two), replication N, members with weights, a monotonic version — plus the owners of every
 * partition, derived from the members alone (ownership.ts) so that every node computes the same
 * owners. `makeRing` validates, derives and freezes; nothing mutates a ring afterwards.
 *
 * Versions and conflicts. Membership changes only by commit (plan.ts), which makes version + 1.
 * A node that sees a ring with a higher version adopts it (`chooseRing`). Two commits of the
 * same version with different content — two nodes committing concurrently, e.g. on both sides
 * of a network partition — cannot be prevented by pure data alone (the stateful part should
 * commit only on one "claimant" node, as riak_core does), so they are resolved
 * deterministically: each ring carries a content hash (SHA-256 of a canonical encoding of
 * everything but the derived owners, including `committedBy`), and at equal versions the higher
 * hash wins. Every node therefore converges on the same ring whatever order it hears them in
 * (the choice is a total order: a max over (version, hash)). Identical content gives an equal
 * hash and is not a conflict.
 *
 * Identity. `origin` names the node that bootstrapped the ring. Rings of different clusters,
 * origins, P or N are never compared (RingMismatchError): a second node that bootstraps its
 * own ring by mistake forms a different cluster instead of silently replacing one.
 *
 * Tokens. Each member has a `token`, its identity on the hashring continuum: its name when it
 * joins (or `name~2`, `name~3` … if a replaced member still uses that token), inherited by the
 * new node in `replace OLD NEW` so the new node takes over exactly the old one's partitions.
 */
import { createHash } from 'node:crypto';
import { RingConfigError, RingMismatchError } from './errors.js';
import { clusterNameBytesMax, membersMax, nodeNameBytesMax, partitionCountDefault, partitionCountMax, replicationDefault, replicationMax, weightMax, weightTotalMax } from './limits.js';
import { nameProblem } from './names.js';
import { computeOwnership, type Ownership } from './ownership.js';

export interface RingMember {
  readonly name: string;
  /** Relative capacity, an integer 1 … weightMax; fair shares are proportional to it. */
  readonly weight: number;
  /** Identity on the hashring continuum (see the module header). */
  readonly token: string;
}

/** What is persisted and gossiped: everything but the derived owners and hash. */
export interface RingData {
  readonly clusterName: string;
  /** The node that bootstrapped this ring. */
  readonly origin: string;
  /** P, a power of two, 1 … partitionCountMax. Fixed for the life of the ring. */
  readonly partitionCount: number;
  /** N, 1 … replicationMax. Fixed for the life of the ring. */
  readonly replication: number;
  /** Monotonic: 1 at bootstrap, + 1 per commit. */
  readonly version: number;
  /** The node that committed this version ('' when unknown). */
  readonly committedBy: string;
  /** Sorted by name, names and tokens unique; at least one. */
  readonly members: readonly RingMember[];
}

export interface Ring extends RingData {
  /** Hex SHA-256 of the canonical encoding of the data (conflict tie-break). */
  readonly hash: string;
  /** Per partition, its min(N, M) distinct owners, primary first. */
  readonly owners: readonly (readonly string[])[];
}

/** Derived data kept beside each ring (continuum orders, shares), never part of its value. */
const derived = new WeakMap<Ring, Ownership>();

function check(problem: string | undefined): void {
  if (problem !== undefined) throw new RingConfigError(problem);
}

function isIntegerIn(x: unknown, min: number, max: number): x is number {
  return typeof x === 'number' && Number.isInteger(x) && x >= min && x <= max;
}

function validateShape(data: RingData): void {
  check(nameProblem('the cluster name', data.clusterName, clusterNameBytesMax));
  check(nameProblem('the ring origin', data.origin, nodeNameBytesMax));
  const P = data.partitionCount;
  if (!isIntegerIn(P, 1, partitionCountMax) || (P & (P - 1)) !== 0) throw new RingConfigError(`the partition count must be a power of two from 1 to ${partitionCountMax}`);
  if (!isIntegerIn(data.replication, 1, replicationMax)) throw new RingConfigError(`the replication factor must be an integer from 1 to ${replicationMax}`);
  if (!isIntegerIn(data.version, 1, Number.MAX_SAFE_INTEGER)) throw new RingConfigError('the ring version must be a positive integer');
  if (data.committedBy !== '') check(nameProblem('committedBy', data.committedBy, nodeNameBytesMax));
  if (!Array.isArray(data.members) || data.members.length === 0) throw new RingConfigError('a ring needs at least one member');
  if (data.members.length > membersMax) throw new RingConfigError(`a ring holds at most ${membersMax} members`);
}

function validateMembers(members: readonly RingMember[]): void {
  const weightTotal = members.reduce((sum, m) => sum + (typeof m.weight === 'number' ? m.weight : 0), 0);
  if (weightTotal > weightTotalMax) throw new RingConfigError(`the members' weights add up to ${weightTotal}, more than the ${weightTotalMax} allowed`);
  const names = new Set<string>();
  const tokens = new Set<string>();
  for (const m of members) {
    check(nameProblem('a member name', m.name, nodeNameBytesMax));
    check(nameProblem(`the token of ${m.name}`, m.token, nodeNameBytesMax + 8));
    if (!isIntegerIn(m.weight, 1, weightMax)) throw new RingConfigError(`the weight of ${m.name} must be an integer from 1 to ${weightMax}`);
    if (names.has(m.name)) throw new RingConfigError(`member ${m.name} appears twice`);
    if (tokens.has(m.token)) throw new RingConfigError(`token ${m.token} is used by two members`);
    names.add(m.name);
    tokens.add(m.token);
  }
}

/** Members in canonical order (by name, UTF-16 code units), as fresh plain objects. */
function canonicalMembers(members: readonly RingMember[]): RingMember[] {
  return members.map((m) => ({ name: m.name, weight: m.weight, token: m.token })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** Hex SHA-256 of the canonical encoding of ring data (format 'shoal.ring.v1'). */
export function ringDataHash(data: RingData): string {
  const members = canonicalMembers(data.members).map((m) => [m.name, m.weight, m.token]);
  const canonical = JSON.stringify(['shoal.ring.v1', data.clusterName, data.origin, data.partitionCount, data.replication, data.version, data.committedBy, members]);
  return createHash('sha256').update(canonical, 'utf8').digest('hex');
}

/** Validates ring data, derives the owners, and returns a frozen ring. Throws RingConfigError. */
export function makeRing(data: RingData): Ring {
  validateShape(data);
  validateMembers(data.members);
  const members = canonicalMembers(data.members);
  const ownership = computeOwnership(members, data.partitionCount, data.replication);
  const ring: Ring = Object.freeze({
    clusterName: data.clusterName,
    origin: data.origin,
    partitionCount: data.partitionCount,
    replication: data.replication,
    version: data.version,
    committedBy: data.committedBy,
    members: Object.freeze(members.map((m) => Object.freeze(m))),
    hash: ringDataHash(data),
    owners: Object.freeze(ownership.owners.map((o) => Object.freeze([...o]))),
  });
  derived.set(ring, ownership);
  return ring;
}

export interface BootstrapOptions {
  readonly clusterName: string;
  /** The first member (and origin) of the ring. */
  readonly node: string;
  readonly weight?: number;
  readonly partitionCount?: number;
  readonly replication?: number;
}

/** The ring of one that a cluster's first node starts with (version 1). */
export function bootstrapRing(options: BootstrapOptions): Ring {
  return makeRing({
    clusterName: options.clusterName,
    origin: options.node,
    partitionCount: options.partitionCount ?? partitionCountDefault,
    replication: options.replication ?? replicationDefault,
    version: 1,
    committedBy: options.node,
    members: [{ name: options.node, weight: options.weight ?? 1, token: options.node }],
  });
}

/** The persisted/gossiped form of a ring (plain data; `makeRing(ringToData(r))` equals r). */
export function ringToData(ring: Ring): RingData {
  return {
    clusterName: ring.clusterName,
    origin: ring.origin,
    partitionCount: ring.partitionCount,
    replication: ring.replication,
    version: ring.version,
    committedBy: ring.committedBy,
    members: ring.members.map((m) => ({ name: m.name, weight: m.weight, token: m.token })),
  };
}

/**
 * Orders two rings of the same cluster: by version, then (a conflict) by hash. Returns < 0 when
 * `a` loses, > 0 when `a` wins, 0 when they are the same ring. Throws RingMismatchError for
 * rings that must never replace each other.
 */
export function compareRings(a: Ring, b: Ring): number {
  if (a.clusterName !== b.clusterName) throw new RingMismatchError('clusterName', `rings of clusters ${a.clusterName} and ${b.clusterName} cannot be compared`);
  if (a.origin !== b.origin) throw new RingMismatchError('origin', `rings bootstrapped by ${a.origin} and ${b.origin} belong to different clusters`);
  if (a.partitionCount !== b.partitionCount) throw new RingMismatchError('partitionCount', `rings of ${a.partitionCount} and ${b.partitionCount} partitions cannot be compared`);
  if (a.replication !== b.replication) throw new RingMismatchError('replication', `rings with N=${a.replication} and N=${b.replication} cannot be compared`);
  if (a.version !== b.version) return a.version < b.version ? -1 : 1;
  return a.hash < b.hash ? -1 : a.hash > b.hash ? 1 : 0;
}

/** The ring a node should hold after seeing `candidate` while holding `current`. */
export function chooseRing(current: Ring, candidate: Ring): Ring {
  return compareRings(candidate, current) > 0 ? candidate : current;
}

/** The member called `name`, if any. */
export function memberOf(ring: RingData, name: string): RingMember | undefined {
  return ring.members.find((m) => m.name === name);
}

/** Ownership details (shares, continuum) of a ring made by `makeRing`. */
export function ringOwnership(ring: Ring): Ownership {
  let ownership = derived.get(ring);
  if (ownership === undefined) {
    // A structurally copied ring (e.g. after structuredClone): derive again.
    ownership = computeOwnership(canonicalMembers(ring.members), ring.partitionCount, ring.replication);
    derived.set(ring, ownership);
  }
  return ownership;
}
