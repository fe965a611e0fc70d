/**
 * The broadcast queue: membership updates waiting to be piggybacked (memberlist's
 * TransmitLimitedQueue, simplified).
 *
 * - One entry per member name: a newer update about a member replaces the older one, so the
 *   queue never carries contradictory news about anyone.
 * - `take` picks the least-transmitted entries first, newest first among equals, until the
 *   byte budget is used; each pick counts as one transmission, and an entry is retired after
 *   the retransmit limit (retransmitMult × ceil(log10(n+1))), which is what makes
 *   dissemination O(log n) rounds at constant load per member.
 * - Bounded: past `queueMax` entries the most-transmitted (then oldest) are dropped.
 */
import type { SwimMessage } from './messages.js';

interface Entry {
  key: string;
  msg: SwimMessage;
  bytes: number;
  transmits: number;
  /** Insertion order, for "newest first". */
  id: number;
}

export function retransmitLimit(retransmitMult: number, n: number): number {
  return retransmitMult * Math.ceil(Math.log10(n + 1));
}

export class BroadcastQueue {
  private readonly entries = new Map<string, Entry>();
  private nextId = 0;

  constructor(private readonly queueMax: number) {}

  get size(): number {
    return this.entries.size;
  }

  /** Queues `msg` about `key`, replacing any older broadcast about the same key. */
  queue(key: string, msg: SwimMessage, bytes: number): void {
    this.entries.delete(key);
    this.entries.set(key, { key, msg, bytes, transmits: 0, id: this.nextId++ });
    if (this.entries.size > this.queueMax) this.dropMostTransmitted(this.entries.size - this.queueMax);
  }

  /** Whether a broadcast about `key` is still queued (tests and leave). */
  has(key: string): boolean {
    return this.entries.has(key);
  }

  /**
   * Takes broadcasts fitting in `budgetBytes` (each costing its size plus `perItemBytes`),
   * counting a transmission for each and retiring those that reached `limit`.
   */
  take(budgetBytes: number, perItemBytes: number, limit: number): SwimMessage[] {
    if (this.entries.size === 0 || budgetBytes <= 0) return [];
    const ordered = [...this.entries.values()].sort((a, b) => a.transmits - b.transmits || b.id - a.id);
    const out: SwimMessage[] = [];
    let left = budgetBytes;
    for (const e of ordered) {
      const cost = e.bytes + perItemBytes;
      if (cost > left) continue;
      left -= cost;
      out.push(e.msg);
      e.transmits++;
      if (e.transmits >= limit) this.entries.delete(e.key);
      if (left < perItemBytes + 8) break;
    }
    return out;
  }

  private dropMostTransmitted(count: number): void {
    const victims = [...this.entries.values()].sort((a, b) => b.transmits - a.transmits || a.id - b.id).slice(0, count);
    for (const v of victims) this.entries.delete(v.key);
  }
}
