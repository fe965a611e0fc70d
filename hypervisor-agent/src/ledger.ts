/**
 * The memory ledger, shell: the pure core (ledger-core.ts) over LMDB storage and the injected
 * clock. What it adds is durability, in a way that lets many reservations share one commit.
 *
 * Durability before the answer. An operation runs the core synchronously (so operations are
 * decided one at a time, in call order, against memory that already reflects every earlier
 * decision), issues the core's writes at once without waiting, and resolves its promise only
 * when those writes — and every write issued before them — are durable. Many callers in flight
 * therefore share LMDB's group commit: a thousand concurrent reserves are a thousand puts in one
 * or a few transactions, not a thousand fsyncs in a row.
 *
 * Why answering from memory ahead of the disk is safe. Storage commits writes in the order they
 * were issued (LMDB has one write transaction at a time; the simulator applies groups in order),
 * so what is on disk after a crash is always the state after some prefix of the operations. Every
 * such state satisfied the core's invariant (grants never exceed capacity), so a restarted agent
 * loads a state that does not over-commit. An answer is sent only once its operation's writes
 * and all earlier ones are durable, so every acknowledged grant is in the prefix that survives:
 * a restarted agent never forgets a grant it acknowledged, and a retry after the restart finds
 * it and answers the same grant (idempotence by VM id). A decision that relied on capacity freed
 * by an earlier release is only acknowledged after that release is durable too. Operations that
 * write nothing (a retry, a refusal) still wait for the writes issued before them, so no answer
 * ever describes a state the disk might not reach.
 *
 * Failure. If a write fails the ledger stops trusting itself: every pending and later operation
 * rejects with LedgerStorageError and `onFailure` is called (the agent then stops) — memory and
 * disk may disagree, and guessing could double-grant.
 *
 * Leases: a timer on the injected clock fires at the earliest lease deadline (re-checking at
 * least every `expiryCheckMaxMs`, so wall-clock jumps are noticed) and runs the core's `expire`.
 */
import { validate, reservationSchema, type MemoryFigures } from '@shoal/wire';
import type { BatchOp, Clock, DamagedRecordError, Logger, Storage, Store, Timer } from '@shoal/runtime';
import { silentLogger } from '@shoal/runtime';
import { AgentStartError, LedgerClosedError, LedgerStorageError } from './errors.js';
import { limits } from './limits.js';
import {
  LedgerCore,
  type Capacity,
  type ConfirmOutcome,
  type LedgerEntry,
  type LedgerWrite,
  type ReconcileReport,
  type ReleaseOutcome,
  type ReserveOutcome,
  type ResizeOutcome,
  type Step,
} from './ledger-core.js';

export interface DurableLedgerOptions {
  storage: Storage;
  clock: Clock;
  capacity: Capacity;
  log?: Logger;
  /** Store name inside the storage environment. Default `ledger`. */
  storeName?: string;
  reservationsMax?: number;
  /** Called once if a write fails (the ledger is then unusable). */
  onFailure?: (err: LedgerStorageError) => void;
}

export interface LedgerStats {
  granted: number;
  retried: number;
  refused: number;
  conflicts: number;
  limited: number;
  confirmed: number;
  released: number;
  expired: number;
  resized: number;
  /** Operations that issued writes (each bumps the record revision). */
  changes: number;
}

export class DurableLedger {
  readonly stats: LedgerStats = { granted: 0, retried: 0, refused: 0, conflicts: 0, limited: 0, confirmed: 0, released: 0, expired: 0, resized: 0, changes: 0 };
  private tail: Promise<void> = Promise.resolve();
  private failure: LedgerStorageError | undefined;
  private closed = false;
  private timer: Timer | undefined;
  private armedAtMs = Infinity;
  private readonly log: Logger;

  private constructor(
    private readonly core: LedgerCore,
    private readonly store: Store<LedgerEntry>,
    private readonly clock: Clock,
    private readonly opts: DurableLedgerOptions,
  ) {
    this.log = opts.log ?? silentLogger;
  }

  /** Loads the ledger from storage, ends the leases that ran out while it was down, and arms the lease timer. */
  static async open(opts: DurableLedgerOptions): Promise<DurableLedger> {
    const store = opts.storage.store<LedgerEntry>(opts.storeName ?? 'ledger');
    const entries: LedgerEntry[] = [];
    // A damaged record stops the start (and stays on disk): a ledger missing a grant could grant its memory twice.
    const damaged = (err: DamagedRecordError): never => {
      throw new AgentStartError(`ledger record ${JSON.stringify(err.key)} is unreadable (${err.message}); the ledger cannot be trusted`);
    };
    for (const { key, value } of store.range({ start: ['r'], end: ['s'], onDamaged: damaged })) {
      const checked = validate(reservationSchema, value);
      if (!checked.ok || key[1] !== checked.value.vmId) {
        throw new AgentStartError(`ledger record ${JSON.stringify(key)} is unreadable (${checked.ok ? 'key and id differ' : checked.reason}); the ledger cannot be trusted`);
      }
      entries.push(checked.value);
    }
    const core = LedgerCore.restore(opts.capacity, entries, { reservationsMax: opts.reservationsMax ?? limits.reservationsMax });
    const ledger = new DurableLedger(core, store, opts.clock, opts);
    await ledger.apply((now) => core.expire(now));
    return ledger;
  }

  reserve(vmId: string, ramMb: number, leaseMs: number): Promise<ReserveOutcome> {
    return this.apply((now) => this.core.reserve(vmId, ramMb, leaseMs, now), (o) => {
      if (o.kind === 'granted') this.stats[o.retry ? 'retried' : 'granted']++;
      else if (o.kind === 'refused') this.stats.refused++;
      else if (o.kind === 'conflict') this.stats.conflicts++;
      else this.stats.limited++;
    });
  }

  confirm(vmId: string): Promise<ConfirmOutcome> {
    return this.apply((now) => this.core.confirm(vmId, now), (o) => {
      if (o.kind === 'confirmed' && !o.retry) this.stats.confirmed++;
    });
  }

  release(vmId: string): Promise<ReleaseOutcome> {
    return this.apply((now) => this.core.release(vmId, now), (o) => {
      if (o.kind === 'released') this.stats.released++;
    });
  }

  resize(vmId: string, ramMb: number): Promise<ResizeOutcome> {
    return this.apply((now) => this.core.resize(vmId, ramMb, now), (o) => {
      if (o.kind === 'resized') this.stats.resized++;
    });
  }

  markZoneSeen(vmId: string): Promise<LedgerEntry | undefined> {
    return this.apply((now) => this.core.markZoneSeen(vmId, now));
  }

  reconcile(zones: Iterable<{ uuid: string; ramMb: number }>): Promise<ReconcileReport> {
    return this.apply((now) => this.core.reconcile(zones, now));
  }

  get(vmId: string): LedgerEntry | undefined {
    return this.core.get(vmId);
  }

  list(): LedgerEntry[] {
    return [...this.core.entries()];
  }

  figures(): MemoryFigures {
    return this.core.figures();
  }

  counts(): { pending: number; provisioned: number } {
    return this.core.counts();
  }

  /** Recomputes the core's sums (tests and simulations). */
  checkInvariants(): void {
    this.core.checkInvariants();
  }

  /** Stops the lease timer and waits for the writes issued so far. Later calls reject. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.timer?.cancel();
    this.timer = undefined;
    await this.tail.catch(() => undefined);
  }

  // ---- the shell's one path for every operation ----

  private apply<T>(run: (nowMs: number) => Step<T>, count?: (outcome: T) => void): Promise<T> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.closed) return Promise.reject(new LedgerClosedError('the ledger is closed (the agent is stopping)'));
    let step: Step<T>;
    try {
      step = run(this.clock.wallMs());
    } catch (err) {
      return Promise.reject(err);
    }
    count?.(step.outcome);
    if (step.expired.length > 0) {
      this.stats.expired += step.expired.length;
      this.log.debug('reservations expired', { vms: step.expired.length });
    }
    if (step.writes.length > 0) this.persist(step.writes);
    this.arm();
    const outcome = step.outcome;
    return this.tail.then(
      () => outcome,
      () => {
        throw this.failure ?? new LedgerStorageError('a ledger write failed');
      },
    );
  }

  /** Issues the writes now; the tail resolves once they and every earlier write are durable. */
  private persist(writes: LedgerWrite[]): void {
    this.stats.changes++;
    let done: Promise<void>;
    try {
      const only = writes.length === 1 ? writes[0]! : undefined;
      if (only) done = only.op === 'put' ? this.store.put(only.key, only.value) : this.store.delete(only.key);
      else done = this.store.batch(writes as BatchOp<LedgerEntry>[]);
    } catch (err) {
      done = Promise.reject(err);
    }
    const before = this.tail;
    const tail = done.then(() => before);
    tail.catch((err: unknown) => this.fail(err));
    this.tail = tail;
  }

  private fail(err: unknown): void {
    if (this.failure) return;
    this.failure = new LedgerStorageError(`a ledger write failed (${err instanceof Error ? err.message : String(err)}); the agent must stop`);
    this.log.error('ledger write failed; refusing every further operation', { err: this.failure.message });
    this.timer?.cancel();
    this.opts.onFailure?.(this.failure);
  }

  /** Keeps one timer armed at the earliest lease deadline (or the periodic re-check). */
  private arm(): void {
    if (this.closed || this.failure) return;
    const next = this.core.nextExpiryMs();
    if (next === undefined) {
      this.timer?.cancel();
      this.timer = undefined;
      this.armedAtMs = Infinity;
      return;
    }
    const now = this.clock.wallMs();
    const at = Math.min(next, now + limits.expiryCheckMaxMs);
    if (this.timer && this.armedAtMs <= at) return;
    this.timer?.cancel();
    this.armedAtMs = at;
    this.timer = this.clock.setTimer(Math.max(0, at - now), () => {
      this.timer = undefined;
      this.armedAtMs = Infinity;
      void this.apply((t) => this.core.expire(t)).catch(() => undefined);
    });
  }
}

export type { LedgerEntry, ReserveOutcome, ConfirmOutcome, ReleaseOutcome, ResizeOutcome, ReconcileReport, Capacity };
