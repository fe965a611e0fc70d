/**
 * Simulated storage: the `Storage` interface over in-memory sorted tables, with LMDB's
 * commit and crash semantics.
 *
 * Model. Each node has a disk: environments by path, each a set of named tables (sorted arrays
 * ordered by `compareKeys`, binary-searched). The disk belongs to the node, not to a process,
 * so it survives crashes. Writes (`put`, `delete`, `batch`) join the process's pending commit
 * for that environment; the first write of a commit schedules it a small random delay ahead
 * (`commitDelayMinMs..commitDelayMaxMs`, from the node's disk random stream), as lmdb groups
 * the writes of one moment into one transaction. When the commit event runs, every write of the
 * group is applied in issue order — visible and durable at once — and their promises resolve.
 * The commit event is owned by the process incarnation, so a crash before it drops the whole
 * group (no write of it survives, none is half-applied: batches are atomic) and its promises
 * never settle, while committed data stays.
 *
 * Values are deep-copied (structuredClone) on write and on read, so no caller can change stored
 * state through a reference. Keys are checked with `checkKey` and copied. `range` takes its
 * snapshot when iteration starts, like a read transaction. After `close()` every operation
 * throws StorageClosedError.
 */
import { checkKey, compareKeys, seededRandom, type BatchOp, type Entry, type Key, type RangeOptions, type Random, type Storage, type Store } from '@shoal/runtime';
import { StorageClosedError } from './errors.js';
import { deriveSeed } from './seed.js';
import type { Scheduler } from './scheduler.js';
import type { Trace } from './trace.js';

/** A sorted table: parallel arrays of keys and values. */
class Table {
  readonly keys: Key[] = [];
  readonly values: unknown[] = [];

  /** First index whose key is >= `key` (or > `key` when `after`). */
  bound(key: Key, after: boolean): number {
    let lo = 0;
    let hi = this.keys.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const c = compareKeys(this.keys[mid] as Key, key);
      if (c < 0 || (after && c === 0)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  find(key: Key): number {
    const i = this.bound(key, false);
    return i < this.keys.length && compareKeys(this.keys[i] as Key, key) === 0 ? i : -1;
  }

  apply(op: BatchOp<unknown>): void {
    const i = this.bound(op.key, false);
    const found = i < this.keys.length && compareKeys(this.keys[i] as Key, op.key) === 0;
    if (op.op === 'put') {
      if (found) this.values[i] = op.value;
      else {
        this.keys.splice(i, 0, op.key);
        this.values.splice(i, 0, op.value);
      }
    } else if (found) {
      this.keys.splice(i, 1);
      this.values.splice(i, 1);
    }
  }

  /** Indices of a range, in iteration order. */
  slice(opts: RangeOptions): number[] {
    const limit = opts.limit ?? Infinity;
    const out: number[] = [];
    if (opts.reverse) {
      const hi = opts.start ? this.bound(opts.start, true) : this.keys.length;
      const lo = opts.end ? this.bound(opts.end, true) : 0;
      for (let i = hi - 1; i >= lo && out.length < limit; i--) out.push(i);
    } else {
      const lo = opts.start ? this.bound(opts.start, false) : 0;
      const hi = opts.end ? this.bound(opts.end, false) : this.keys.length;
      for (let i = lo; i < hi && out.length < limit; i++) out.push(i);
    }
    return out;
  }
}

/** What survives a crash: a node's environments by path, and their tables by name. */
export class Disk {
  readonly envs = new Map<string, Map<string, Table>>();

  table(path: string, name: string): Table {
    let env = this.envs.get(path);
    if (!env) this.envs.set(path, (env = new Map()));
    let table = env.get(name);
    if (!table) env.set(name, (table = new Table()));
    return table;
  }
}

interface StagedOp {
  readonly table: Table;
  readonly op: BatchOp<unknown>;
}

interface PendingCommit {
  readonly ops: StagedOp[];
  readonly done: (() => void)[];
}

export interface StorageTiming {
  commitDelayMinMs: number;
  commitDelayMaxMs: number;
}

/** One process's writer for one environment: groups writes into commits. */
export class EnvWriter {
  private pending: PendingCommit | undefined;

  constructor(
    private readonly node: string,
    private readonly incarnation: number,
    private readonly path: string,
    private readonly sched: Scheduler,
    private readonly trace: Trace,
    private readonly random: Random,
    private readonly timing: StorageTiming,
  ) {}

  write(ops: StagedOp[]): Promise<void> {
    const pending = this.pending ?? this.open();
    pending.ops.push(...ops);
    return new Promise((resolve) => pending.done.push(resolve));
  }

  flushed(): Promise<void> {
    const pending = this.pending;
    if (!pending) return Promise.resolve();
    return new Promise((resolve) => pending.done.push(resolve));
  }

  private open(): PendingCommit {
    const pending: PendingCommit = { ops: [], done: [] };
    this.pending = pending;
    const { commitDelayMinMs: min, commitDelayMaxMs: max } = this.timing;
    const atMs = this.sched.nowMs + min + this.random.float() * (max - min);
    this.sched.schedule(atMs, { node: this.node, incarnation: this.incarnation }, 'commit', () => {
      this.pending = undefined;
      for (const { table, op } of pending.ops) table.apply(op);
      this.trace.record(this.sched.nowMs, `commit ${this.node} ${this.path} ${pending.ops.length} ops`);
      for (const done of pending.done) done();
    });
    return pending;
  }
}

class SimStore<V> implements Store<V> {
  constructor(
    private readonly storage: SimStorage,
    private readonly table: Table,
  ) {}

  get(key: Key): V | undefined {
    this.storage.assertOpen();
    checkKey(key);
    const i = this.table.find(key);
    return i < 0 ? undefined : (structuredClone(this.table.values[i]) as V);
  }

  *range(opts: RangeOptions = {}): Iterable<Entry<V>> {
    this.storage.assertOpen();
    if (opts.start) checkKey(opts.start);
    if (opts.end) checkKey(opts.end);
    const t = this.table;
    const snapshot = t.slice(opts).map((i) => ({ key: t.keys[i] as Key, value: t.values[i] }));
    for (const e of snapshot) yield { key: [...e.key], value: structuredClone(e.value) as V };
  }

  async put(key: Key, value: V): Promise<void> {
    return this.batch([{ op: 'put', key, value }]);
  }

  async delete(key: Key): Promise<void> {
    return this.batch([{ op: 'delete', key }]);
  }

  async batch(ops: readonly BatchOp<V>[]): Promise<void> {
    this.storage.assertOpen();
    for (const op of ops) checkKey(op.key);
    const staged = ops.map((op): StagedOp => {
      const key = Object.freeze([...op.key]);
      return { table: this.table, op: op.op === 'put' ? { op: 'put', key, value: structuredClone(op.value) } : { op: 'delete', key } };
    });
    return this.storage.writer.write(staged);
  }
}

export class SimStorage implements Storage {
  private closed = false;
  private readonly stores = new Map<string, SimStore<unknown>>();

  constructor(
    private readonly disk: Disk,
    private readonly path: string,
    readonly writer: EnvWriter,
  ) {}

  assertOpen(): void {
    if (this.closed) throw new StorageClosedError(`storage ${this.path} is closed`);
  }

  store<V = unknown>(name: string): Store<V> {
    this.assertOpen();
    let store = this.stores.get(name);
    if (!store) this.stores.set(name, (store = new SimStore<unknown>(this, this.disk.table(this.path, name))));
    return store as unknown as Store<V>;
  }

  flushed(): Promise<void> {
    return this.writer.flushed();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.writer.flushed();
    this.closed = true;
  }
}

/** The storage side of one process (incarnation): one writer per environment path. */
export class ProcessStorage {
  private readonly writers = new Map<string, EnvWriter>();
  private readonly random: Random;

  constructor(
    seed: number,
    private readonly node: string,
    private readonly incarnation: number,
    private readonly disk: Disk,
    private readonly sched: Scheduler,
    private readonly trace: Trace,
    private readonly timing: StorageTiming,
  ) {
    this.random = seededRandom(deriveSeed(seed, 'disk', node, incarnation));
  }

  open(path: string): Storage {
    let writer = this.writers.get(path);
    if (!writer) {
      writer = new EnvWriter(this.node, this.incarnation, path, this.sched, this.trace, this.random, this.timing);
      this.writers.set(path, writer);
    }
    return new SimStorage(this.disk, path, writer);
  }
}
