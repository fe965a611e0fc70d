/**
 * The member table: every member this node knows (itself excluded), in the four states, with the
 * probe order SWIM needs — a shuffled round robin, so each member is probed once per round and
 * the time to first detection is bounded (SWIM §4.3), with newcomers inserted at random places.
 */
import type { Random } from '@shoal/runtime';
import type { MemberMeta, MemberSnapshot, MemberState } from './messages.js';
import type { Suspicion } from './suspicion.js';

export interface MemberRecord {
  name: string;
  incarnation: number;
  state: MemberState;
  meta: MemberMeta;
  /** Monotonic time of the last state change. */
  stateChangeMs: number;
  suspicion: Suspicion | undefined;
}

/** A member as the rest of the node sees it. */
export interface Member {
  name: string;
  incarnation: number;
  state: MemberState;
  meta: MemberMeta;
  stateChangeMs: number;
}

export function publicMember(r: MemberRecord): Member {
  return { name: r.name, incarnation: r.incarnation, state: r.state, meta: r.meta, stateChangeMs: r.stateChangeMs };
}

export function snapshotOf(r: MemberRecord): MemberSnapshot {
  return { name: r.name, inc: r.incarnation, state: r.state, meta: r.meta };
}

export class MemberTable {
  private readonly byName = new Map<string, MemberRecord>();
  private order: string[] = [];
  private next = 0;

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

  add(r: MemberRecord): void {
    this.byName.set(r.name, r);
    // Insert at a random offset so a new member is probed within one round, like the others.
    const at = this.random.int(this.order.length + 1);
    this.order.splice(at, 0, r.name);
  }

  remove(name: string): void {
    this.byName.delete(name);
    const i = this.order.indexOf(name);
    if (i !== -1) {
      this.order.splice(i, 1);
      if (i < this.next) this.next--;
    }
  }

  /** Members that count toward the cluster size (alive or suspect), plus this node. */
  liveCount(): number {
    let n = 1;
    for (const r of this.byName.values()) if (r.state === 'alive' || r.state === 'suspect') n++;
    return n;
  }

  /** The next member to probe (alive or suspect), reshuffling after each full round. */
  nextProbeTarget(): MemberRecord | undefined {
    for (let tries = 0; tries <= this.order.length; tries++) {
      if (this.next >= this.order.length) {
        this.random.shuffle(this.order);
        this.next = 0;
      }
      const name = this.order[this.next++];
      const r = name === undefined ? undefined : this.byName.get(name);
      if (r && (r.state === 'alive' || r.state === 'suspect')) return r;
      if (this.order.length === 0) return undefined;
    }
    return undefined;
  }

  /** Up to `count` random members passing `accept`, without repeats. */
  sample(count: number, accept: (r: MemberRecord) => boolean): MemberRecord[] {
    const pool: MemberRecord[] = [];
    for (const r of this.byName.values()) if (accept(r)) pool.push(r);
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
