/**
 * The member table: every member this node knows (itself excluded), in the four states, with the
 * probe order SWIM needs — a shuffled round robin, so each member is probed once per round and
 * the time to first detection is bounded (SWIM §4.3: at most 2n − 1 periods), with newcomers
 * inserted at random places so the bound holds for them too.
 *
 * Invariants: `counts` always equals the number of records per state (every state change goes
 * through `setState`); `suspects` holds exactly the records in state `suspect`; the probe order
 * holds every known name once. One addition to SWIM's order: a member that others report as
 * suspect is probed next, once (`probeSoon`), so that this node confirms the suspicion or hands
 * the suspect its chance to refute (Lifeguard's buddy system) one period later instead of up to
 * a round later. It delays the round robin by one period per suspicion, so the SWIM bound grows
 * by the number of suspicions raised meanwhile, which is small.
 */
import type { Random } from '@shoal/runtime';
import type { MemberMeta, MemberSnapshot, MemberState } from './messages.js';
import type { Suspicion } from './suspicion.js';

export interface MemberRecord {
  readonly name: string;
  incarnation: number;
  /** Change only through MemberTable.setState. */
  readonly state: MemberState;
  meta: MemberMeta;
  /** Monotonic time of the last state change. */
  readonly stateChangeMs: number;
  suspicion: Suspicion | undefined;
}

interface MutableRecord extends MemberRecord {
  state: MemberState;
  stateChangeMs: number;
}

/** A member as the rest of the node sees it (a copy). */
export interface Member {
  name: string;
  incarnation: number;
  state: MemberState;
  meta: MemberMeta;
  /** Monotonic time (the node's clock) of the last state change. */
  stateChangeMs: number;
}

export function publicMember(r: MemberRecord): Member {
  return { name: r.name, incarnation: r.incarnation, state: r.state, meta: r.meta, stateChangeMs: r.stateChangeMs };
}

export function snapshotOf(r: MemberRecord): MemberSnapshot {
  return { name: r.name, inc: r.incarnation, state: r.state, meta: r.meta };
}

export type StateCounts = Record<MemberState, number>;

export class MemberTable {
  private readonly byName = new Map<string, MutableRecord>();
  /** Every record, in no particular order, for O(1) random picks (swap-removed). */
  private readonly list: MutableRecord[] = [];
  private readonly indexOf = new Map<MemberRecord, number>();
  private order: string[] = [];
  private next = 0;
  private readonly soon: string[] = [];
  readonly counts: StateCounts = { alive: 0, suspect: 0, dead: 0, left: 0 };
  /** Records in state `suspect`. */
  readonly suspects = new Set<MemberRecord>();

  constructor(private readonly random: Random) {}

  get size(): number {
    return this.byName.size;
  }

  get(name: string): MemberRecord | undefined {
    return this.byName.get(name);
  }

  all(): IterableIterator<MemberRecord> {
    return this.byName.values();
  }

  /** Adds a member we had never heard of. */
  add(init: { name: string; incarnation: number; state: MemberState; meta: MemberMeta }, nowMs: number): MemberRecord {
    const r: MutableRecord = { ...init, stateChangeMs: nowMs, suspicion: undefined };
    this.byName.set(r.name, r);
    this.indexOf.set(r, this.list.length);
    this.list.push(r);
    this.counts[r.state]++;
    if (r.state === 'suspect') this.suspects.add(r);
    // Insert at a random offset so a new member is probed within one round, like the others.
    const at = this.random.int(this.order.length + 1);
    this.order.splice(at, 0, r.name);
    if (at < this.next) this.next++;
    return r;
  }

  setState(record: MemberRecord, state: MemberState, nowMs: number): void {
    const r = record as MutableRecord;
    if (r.state === state) return;
    this.counts[r.state]--;
    this.counts[state]++;
    if (state === 'suspect') this.suspects.add(r);
    else this.suspects.delete(r);
    r.state = state;
    r.stateChangeMs = nowMs;
  }

  remove(name: string): void {
    const r = this.byName.get(name);
    if (!r) return;
    this.byName.delete(name);
    const at = this.indexOf.get(r) as number;
    const last = this.list.pop() as MutableRecord;
    if (last !== r) {
      this.list[at] = last;
      this.indexOf.set(last, at);
    }
    this.indexOf.delete(r);
    this.counts[r.state]--;
    this.suspects.delete(r);
    const i = this.order.indexOf(name);
    if (i !== -1) {
      this.order.splice(i, 1);
      if (i < this.next) this.next--;
    }
  }

  /** Members that count toward the cluster size (alive or suspect), plus this node. */
  liveCount(): number {
    return 1 + this.counts.alive + this.counts.suspect;
  }

  /** Probes `name` next (once), ahead of the round robin. Bounded by the table size. */
  probeSoon(name: string): void {
    if (!this.soon.includes(name) && this.soon.length < this.byName.size) this.soon.push(name);
  }

  /** The next member to probe (alive or suspect), reshuffling after each full round. */
  nextProbeTarget(): MemberRecord | undefined {
    for (let name = this.soon.shift(); name !== undefined; name = this.soon.shift()) {
      const r = this.byName.get(name);
      if (r && isLive(r)) return r;
    }
    for (let tries = 0; tries <= this.order.length; tries++) {
      if (this.next >= this.order.length) {
        this.random.shuffle(this.order);
        this.next = 0;
      }
      const name = this.order[this.next++];
      const r = name === undefined ? undefined : this.byName.get(name);
      if (r && isLive(r)) return r;
      if (this.order.length === 0) return undefined;
    }
    return undefined;
  }

  /**
   * Up to `count` random members passing `accept`, without repeats. Draws at random first (cheap
   * when most members pass, the usual case), and falls back to a scan of the whole table when
   * draws keep missing, so the answer is the same set distribution either way: uniform among the
   * members that pass.
   */
  sample(count: number, accept: (r: MemberRecord) => boolean): MemberRecord[] {
    const n = this.list.length;
    if (count <= 0 || n === 0) return [];
    const picked: MemberRecord[] = [];
    if (count * 4 < n) {
      for (let tries = 0; tries < count * 4 && picked.length < count; tries++) {
        const r = this.list[this.random.int(n)] as MemberRecord;
        if (accept(r) && !picked.includes(r)) picked.push(r);
      }
      if (picked.length === count) return picked;
    }
    return this.scanSample(count, accept);
  }

  private scanSample(count: number, accept: (r: MemberRecord) => boolean): MemberRecord[] {
    const pool: MemberRecord[] = [];
    for (const r of this.list) if (accept(r)) pool.push(r);
    if (pool.length <= count) return this.random.shuffle(pool);
    // Partial Fisher–Yates: only the first `count` places are drawn.
    for (let i = 0; i < count; i++) {
      const j = i + this.random.int(pool.length - i);
      const tmp = pool[i] as MemberRecord;
      pool[i] = pool[j] as MemberRecord;
      pool[j] = tmp;
    }
    return pool.slice(0, count);
  }
}

export function isLive(r: MemberRecord): boolean {
  return r.state === 'alive' || r.state === 'suspect';
}
