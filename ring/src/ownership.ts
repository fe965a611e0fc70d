/**
 * Ownership: which N members hold each partition, derived only from the committed members.
 *
 * Algorithm (every node runs it on the same committed ring and gets the same owners; integer
 * arithmetic only, fixed iteration orders, no clock or randomness):
 *
 * 1. Preference orders. Each partition p gets the clockwise order of members on the hashring
 *    continuum from the point of `partition-p` (continuum.ts; Karger et al. 1997, ketama).
 *
 * 2. Fair shares, by water-filling. With n = min(N, M) replicas per partition there are n × P
 *    replica slots. Member m's fair share is s_m = λ × w_m, except that nobody can hold a
 *    partition twice, so s_m ≤ P: members whose weighted share would exceed P are fixed at P and
 *    the rest is spread over the others by weight (repeat until no one exceeds P). Without
 *    extreme weights this is simply s_m = n × P × w_m / W. Primary fair share is s_m / n (so
 *    shares of primaries also sum to P).
 *
 * 3. Caps (bounded loads; Mirrokni, Thorup, Zadimoghaddam, "Consistent Hashing with Bounded
 *    Loads", SODA 2018, with c = 1.25): ownedMax_m = min(P, ceil(1.25 × s_m)) and
 *    primariesMax_m = ceil(1.25 × s_m / n).
 *
 * 4. Replica sets. Walk partitions 0 … P−1; give each the first n members of its preference
 *    order that are still under their ownedMax. Plain greedy can paint itself into a corner on
 *    the last partitions (spare capacity left on fewer than n distinct members), so the walk
 *    keeps a feasibility invariant: with R partitions still to fill and r_m the capacity left,
 *    Σ_m min(r_m, R) ≥ n × R is exactly the condition for the rest to be fillable with n
 *    distinct members each (lay the capacities out column by column in an R × n grid). Members
 *    with r_m ≥ R are "tight": leaving one out costs one unit of slack S = Σ min(r_m, R) − n R.
 *    So the walk takes every tight member it meets and skips a non-tight one only when the
 *    remaining slots are needed for max(0, |tight| − S) tight members. The invariant then
 *    holds after every partition and the walk can never fail; in practice it only matters in
 *    the last few partitions.
 *
 * 5. Primaries. For each partition (same order), the first of its n owners, in preference
 *    order, with primaries under primariesMax; if all are full, an augmenting path moves a
 *    primary role along owners (Kuhn's bipartite matching). A complete assignment always
 *    exists: any set Q of partitions has n|Q| owner slots among its owners U, Σ_{U} owned ≤
 *    Σ_{U} ownedMax ≤ n Σ_{U} primariesMax (ceil(n x) ≤ n ceil(x)), which is Hall's condition.
 *
 * Consequences: every partition has n distinct owners; no member holds more than
 * ceil(1.25 × fair share) replicas or primaries; when no cap binds, the owners are exactly
 * consistent hashing's first n, so a join moves close to the ideal 1/(M+1) of the replicas
 * (caps that bind move a few more — measured in test/ownership.test.ts).
 */
import { Continuum, type ContinuumMember } from './continuum.js';
import { invariant } from './errors.js';
import { loadFactor } from './limits.js';

/** One member's fair share and caps (see the module header). */
export interface MemberShare {
  readonly name: string;
  readonly weight: number;
  /** Fair number of replicas (owned partitions, primary or not); may be fractional. */
  readonly fairOwned: number;
  /** Fair number of primaries: fairOwned / n. */
  readonly fairPrimaries: number;
  /** min(P, ceil(1.25 × fairOwned)). */
  readonly ownedMax: number;
  /** ceil(1.25 × fairPrimaries). */
  readonly primariesMax: number;
}

export interface Shares {
  /** Replicas per partition: min(N, M). */
  readonly n: number;
  readonly members: readonly MemberShare[];
}

function ceilDiv(a: number, b: number): number {
  const r = a % b;
  return (a - r) / b + (r > 0 ? 1 : 0);
}

/** Fair shares and caps of `members` for P partitions and replication N (exact integer maths). */
export function fairShares(members: readonly { readonly name: string; readonly weight: number }[], partitionCount: number, replication: number): Shares {
  const P = partitionCount;
  const n = Math.min(replication, members.length);
  const filled = new Set<number>();
  for (;;) {
    const k = n - filled.size;
    const wu = members.reduce((sum, m, i) => (filled.has(i) ? sum : sum + m.weight), 0);
    const over = members.map((m, i) => i).filter((i) => !filled.has(i) && k * members[i]!.weight > wu);
    if (over.length === 0) break;
    for (const i of over) filled.add(i);
  }
  const k = n - filled.size;
  const wu = members.reduce((sum, m, i) => (filled.has(i) ? sum : sum + m.weight), 0);
  const { numerator: c, denominator: d } = loadFactor;
  const shares = members.map((m, i): MemberShare => {
    if (filled.has(i)) {
      return { name: m.name, weight: m.weight, fairOwned: P, fairPrimaries: P / n, ownedMax: P, primariesMax: ceilDiv(c * P, d * n) };
    }
    // s = k P w / wu; caps ceil(c s / d) and ceil(c s / (d n)). k = 0 only if n members are filled.
    const num = k * P * m.weight;
    const den = Math.max(wu, 1);
    return {
      name: m.name,
      weight: m.weight,
      fairOwned: num / den,
      fairPrimaries: num / den / n,
      ownedMax: Math.min(P, ceilDiv(c * num, d * den)),
      primariesMax: ceilDiv(c * num, d * den * n),
    };
  });
  return { n, members: shares };
}

/** Chooses partition p's n owners (step 4 of the module header); updates `left`. */
function chooseReplicas(continuum: Continuum, p: number, n: number, left: Map<string, number>, partitionsLeft: number): string[] {
  const R = partitionsLeft;
  let slack = -n * R;
  let tight = 0;
  for (const r of left.values()) {
    slack += Math.min(r, R);
    if (r >= R) tight++;
  }
  invariant(slack >= 0, `ownership became infeasible at partition ${p} (slack ${slack})`);
  const tightNeeded = Math.max(0, tight - slack);
  const chosen: string[] = [];
  let tightChosen = 0;
  for (let i = 0; chosen.length < n; i++) {
    const m = continuum.at(p, i);
    invariant(m !== undefined, `partition ${p}: preference order exhausted with ${chosen.length} of ${n} owners`);
    const r = left.get(m) ?? 0;
    if (r === 0) continue;
    const isTight = r >= R;
    if (!isTight && n - chosen.length <= tightNeeded - tightChosen) continue;
    chosen.push(m);
    if (isTight) tightChosen++;
  }
  for (const m of chosen) left.set(m, (left.get(m) ?? 0) - 1);
  return chosen;
}

/**
 * Finds an augmenting path for partition `p` (step 5): breadth first over members, moving the
 * primary role of partitions along the path. Returns false only if Hall's condition fails.
 */
function augmentPrimary(p: number, replicas: readonly (readonly string[])[], primary: (string | undefined)[], load: Map<string, number>, cap: Map<string, number>): boolean {
  const via = new Map<string, number>(); // member → partition through which it was reached
  const queue: string[] = [];
  for (const m of replicas[p]!) {
    via.set(m, p);
    queue.push(m);
  }
  for (let head = 0; head < queue.length; head++) {
    const m = queue[head]!;
    if ((load.get(m) ?? 0) < (cap.get(m) ?? 0)) {
      load.set(m, (load.get(m) ?? 0) + 1);
      let member: string | undefined = m;
      while (member !== undefined) {
        const q: number = via.get(member)!;
        const previous: string | undefined = primary[q];
        primary[q] = member;
        member = q === p ? undefined : previous;
      }
      return true;
    }
    for (let q = 0; q < primary.length; q++) {
      if (primary[q] !== m) continue;
      for (const other of replicas[q]!) {
        if (via.has(other)) continue;
        via.set(other, q);
        queue.push(other);
      }
    }
  }
  return false;
}

/** Chooses every partition's primary among its owners (step 5), returning owners primary first. */
function choosePrimaries(replicas: readonly (readonly string[])[], shares: Shares): string[][] {
  const cap = new Map(shares.members.map((s) => [s.name, s.primariesMax]));
  const load = new Map(shares.members.map((s) => [s.name, 0]));
  const primary: (string | undefined)[] = new Array<string | undefined>(replicas.length).fill(undefined);
  for (let p = 0; p < replicas.length; p++) {
    const first = replicas[p]!.find((m) => (load.get(m) ?? 0) < (cap.get(m) ?? 0));
    if (first !== undefined) {
      primary[p] = first;
      load.set(first, (load.get(first) ?? 0) + 1);
    } else {
      invariant(augmentPrimary(p, replicas, primary, load, cap), `no primary assignment for partition ${p} (Hall's condition failed)`);
    }
  }
  return replicas.map((owners, p) => {
    const first = primary[p]!;
    return [first, ...owners.filter((m) => m !== first)];
  });
}

export interface Ownership {
  /** Per partition, its n distinct owners: the primary first, then the rest in preference order. */
  readonly owners: readonly (readonly string[])[];
  readonly shares: Shares;
  /** The continuum the owners were computed from (its orders are cached and reused by preflists). */
  readonly continuum: Continuum;
}

/** Owners of every partition for the given members (module header). Deterministic; pure. */
export function computeOwnership(members: readonly ContinuumMember[], partitionCount: number, replication: number): Ownership {
  invariant(members.length > 0, 'ownership needs at least one member');
  const shares = fairShares(members, partitionCount, replication);
  const n = shares.n;
  const continuum = new Continuum(members, partitionCount, n + 2);
  const left = new Map(shares.members.map((s) => [s.name, s.ownedMax]));
  const replicas: string[][] = [];
  for (let p = 0; p < partitionCount; p++) replicas.push(chooseReplicas(continuum, p, n, left, partitionCount - p));
  return { owners: choosePrimaries(replicas, shares), shares, continuum };
}
