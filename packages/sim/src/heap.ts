/**
 * EventHeap: the simulator's single event queue, a binary min-heap.
 *
 * Items are ordered by `(atMs, seq)`: earliest time first, and among items due at the same
 * instant, the one scheduled first (lower sequence number) first. Sequence numbers are unique
 * and increase with every schedule, so the order is total and never depends on heap internals:
 * the same schedule calls always pop in the same order. That is what makes a run replayable.
 */

export interface HeapItem {
  atMs: number;
  readonly seq: number;
}

function before(a: HeapItem, b: HeapItem): boolean {
  return a.atMs < b.atMs || (a.atMs === b.atMs && a.seq < b.seq);
}

export class EventHeap<T extends HeapItem> {
  private items: T[] = [];

  get size(): number {
    return this.items.length;
  }

  peek(): T | undefined {
    return this.items[0];
  }

  push(item: T): void {
    const items = this.items;
    items.push(item);
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = items[parent] as T;
      if (!before(item, p)) break;
      items[i] = p;
      i = parent;
    }
    items[i] = item;
  }

  pop(): T | undefined {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    if (top === undefined || last === undefined || items.length === 0) return top;
    let i = 0;
    const n = items.length;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const child = r < n && before(items[r] as T, items[l] as T) ? r : l;
      const c = items[child] as T;
      if (!before(c, last)) break;
      items[i] = c;
      i = child;
    }
    items[i] = last;
    return top;
  }

  /** Keeps only the items for which `keep` is true (used to shed cancelled timers). */
  retain(keep: (item: T) => boolean): void {
    const kept = this.items.filter(keep);
    this.items = [];
    for (const item of kept) this.push(item);
  }
}
