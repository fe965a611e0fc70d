/**
 * The memory ledger, pure core: the host-local lock on a hypervisor's memory (DESIGN §3, "locks
 * live next to the data"). No clock, no storage, no randomness: every operation takes the time
 * (`nowMs`, wall-clock ms) and returns its outcome plus the storage writes that make it durable.
 * The shell (ledger.ts) performs the writes and answers only once they are durable.
 *
 * Model. A reservation is `{ vmId, ramMb, state }`: `pending` (granted, with a lease: it
 * expires at `expiresAtMs` unless confirmed) or `provisioned` (confirmed, or a zone exists: no
 * lease). With C = totalMb − reservedForHostMb (what may be handed out),
 *
 *     headroom = C − Σ provisioned ramMb − Σ pending ramMb
 *
 * and `reserve(vm, r)` is granted iff r ≤ headroom, in one step, so grants never make headroom
 * negative (invariant G). Only `reconcile` may (zones the driver already has are facts, not
 * requests); then headroom is negative, nothing is granted until it is positive again, and the
 * figures report `overcommittedMb`.
 *
 * Idempotence. The key is the VM id. A reserve for a VM that holds a reservation of the same
 * size answers the same grant again (same `expiresAtMs`: a retry neither extends the lease nor
 * counts twice); another size is a `conflict`. `confirm` of a provisioned VM and `release` of
 * an unknown VM are no-ops that answer as if they had just happened. A refusal is not
 * remembered: it changed nothing, so asking again asks about the memory free now.
 *
 * Expiry. Every operation first expires the pending reservations whose lease ran out
 * (`expiresAtMs ≤ nowMs`), so no decision ever counts a dead lease; `expire(nowMs)` does only
 * that, for the shell's timer. Leases are wall-clock deadlines because they must survive a
 * restart (monotonic clocks restart at an arbitrary origin); a wall-clock jump can only end a
 * lease early or late, never create memory: safety (G) does not depend on time.
 *
 * Storage keys: `['r', vmId]` → the reservation. One write per changed reservation, so a
 * crash keeps each operation whole.
 */
import type { MemoryFigures, Reservation } from '@shoal/wire';
import { AgentBugError } from './errors.js';
import { limits } from './limits.js';

export type LedgerEntry = Reservation;

export interface Capacity {
  /** Physical memory of the host, MB. */
  readonly totalMb: number;
  /** Kept for the host itself (kernel, ARC, agents): never handed out, MB. */
  readonly reservedForHostMb: number;
}

export type LedgerKey = readonly ['r', string];
export type LedgerWrite = { op: 'put'; key: LedgerKey; value: LedgerEntry } | { op: 'delete'; key: LedgerKey };

export type ReserveOutcome =
  | { kind: 'granted'; entry: LedgerEntry; retry: boolean }
  | { kind: 'refused'; freeMb: number }
  | { kind: 'conflict'; entry: LedgerEntry }
  | { kind: 'limit' };
export type ConfirmOutcome = { kind: 'confirmed'; entry: LedgerEntry; retry: boolean } | { kind: 'not-found' };
export type ReleaseOutcome = { kind: 'released'; entry: LedgerEntry } | { kind: 'not-found' };
export type ResizeOutcome = { kind: 'resized'; entry: LedgerEntry } | { kind: 'refused'; freeMb: number } | { kind: 'not-found' };

export interface ReconcileReport {
  /** Zones the ledger did not know: adopted as provisioned. */
  adopted: string[];
  /** Reservations whose zone appeared (pending → provisioned) or changed size. */
  updated: string[];
  /** Provisioned reservations whose zone is gone: released. */
  released: string[];
}

/** An outcome, the writes that make it durable, and the leases that ran out on the way. */
export interface Step<T> {
  readonly outcome: T;
  readonly writes: LedgerWrite[];
  readonly expired: LedgerEntry[];
}

export interface LedgerCoreOptions {
  reservationsMax?: number;
}

export const ledgerKey = (vmId: string): LedgerKey => ['r', vmId];

/** A binary min-heap of lease deadlines; stale items (released, confirmed) are skipped lazily. */
class ExpiryHeap {
  private readonly items: { atMs: number; vmId: string }[] = [];

  get size(): number {
    return this.items.length;
  }

  peek(): { atMs: number; vmId: string } | undefined {
    return this.items[0];
  }

  push(atMs: number, vmId: string): void {
    const a = this.items;
    a.push({ atMs, vmId });
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (a[p]!.atMs <= a[i]!.atMs) break;
      [a[p], a[i]] = [a[i]!, a[p]!];
      i = p;
    }
  }

  pop(): { atMs: number; vmId: string } | undefined {
    const a = this.items;
    const top = a[0];
    const last = a.pop();
    if (a.length > 0 && last) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && a[l]!.atMs < a[m]!.atMs) m = l;
        if (r < a.length && a[r]!.atMs < a[m]!.atMs) m = r;
        if (m === i) break;
        [a[m], a[i]] = [a[i]!, a[m]!];
        i = m;
      }
    }
    return top;
  }

  /** Rebuilds from the live leases (bounds the heap when many leases ended early). */
  rebuild(live: Iterable<{ atMs: number; vmId: string }>): void {
    this.items.length = 0;
    for (const x of live) this.push(x.atMs, x.vmId);
  }
}

export class LedgerCore {
  private readonly byVm = new Map<string, LedgerEntry>();
  private readonly heap = new ExpiryHeap();
  private pendingMb = 0;
  private provisionedMb = 0;
  private pendingCount = 0;
  private readonly reservationsMax: number;

  constructor(
    private capacity: Capacity,
    opts: LedgerCoreOptions = {},
  ) {
    checkCapacity(capacity);
    this.reservationsMax = opts.reservationsMax ?? limits.reservationsMax;
  }

  /** A core holding `entries` as they were stored (granted before: no capacity check). */
  static restore(capacity: Capacity, entries: Iterable<LedgerEntry>, opts: LedgerCoreOptions = {}): LedgerCore {
    const core = new LedgerCore(capacity, opts);
    for (const e of entries) core.put(e);
    return core;
  }

  get size(): number {
    return this.byVm.size;
  }

  get(vmId: string): LedgerEntry | undefined {
    return this.byVm.get(vmId);
  }

  entries(): IterableIterator<LedgerEntry> {
    return this.byVm.values();
  }

  /** What may still be handed out, MB; negative when zones found at reconcile over-commit the host. */
  headroomMb(): number {
    return this.capacity.totalMb - this.capacity.reservedForHostMb - this.provisionedMb - this.pendingMb;
  }

  figures(): MemoryFigures {
    const headroom = this.headroomMb();
    return {
      totalMb: this.capacity.totalMb,
      reservedForHostMb: this.capacity.reservedForHostMb,
      provisionedMb: this.provisionedMb,
      pendingMb: this.pendingMb,
      freeMb: Math.max(0, headroom),
      overcommittedMb: Math.max(0, -headroom),
    };
  }

  counts(): { pending: number; provisioned: number } {
    return { pending: this.pendingCount, provisioned: this.byVm.size - this.pendingCount };
  }

  /** The earliest lease deadline still pending, if any. */
  nextExpiryMs(): number | undefined {
    for (let top = this.heap.peek(); top; top = this.heap.peek()) {
      const e = this.byVm.get(top.vmId);
      if (e && e.state === 'pending' && e.expiresAtMs === top.atMs) return top.atMs;
      this.heap.pop(); // stale: released, confirmed or re-reserved since
    }
    return undefined;
  }

  reserve(vmId: string, ramMb: number, leaseMs: number, nowMs: number): Step<ReserveOutcome> {
    checkAmount('ramMb', ramMb);
    checkAmount('leaseMs', leaseMs);
    const writes: LedgerWrite[] = [];
    const expired = this.expireInto(nowMs, writes);
    const held = this.byVm.get(vmId);
    if (held) {
      const outcome: ReserveOutcome = held.ramMb === ramMb ? { kind: 'granted', entry: held, retry: true } : { kind: 'conflict', entry: held };
      return { outcome, writes, expired };
    }
    if (this.byVm.size >= this.reservationsMax) return { outcome: { kind: 'limit' }, writes, expired };
    const headroom = this.headroomMb();
    if (ramMb > headroom) return { outcome: { kind: 'refused', freeMb: Math.max(0, headroom) }, writes, expired };
    const entry: LedgerEntry = { vmId, ramMb, state: 'pending', grantedAtMs: Math.floor(nowMs), expiresAtMs: Math.floor(nowMs + leaseMs), zoneSeen: false };
    this.put(entry);
    if (this.headroomMb() < 0) throw new AgentBugError(`ledger granted ${ramMb} MB to ${vmId} past its capacity`);
    writes.push({ op: 'put', key: ledgerKey(vmId), value: entry });
    return { outcome: { kind: 'granted', entry, retry: false }, writes, expired };
  }

  confirm(vmId: string, nowMs: number): Step<ConfirmOutcome> {
    const writes: LedgerWrite[] = [];
    const expired = this.expireInto(nowMs, writes);
    const held = this.byVm.get(vmId);
    if (!held) return { outcome: { kind: 'not-found' }, writes, expired };
    if (held.state === 'provisioned') return { outcome: { kind: 'confirmed', entry: held, retry: true }, writes, expired };
    const entry = this.replace(held, asProvisioned(held, held.zoneSeen));
    writes.push({ op: 'put', key: ledgerKey(vmId), value: entry });
    return { outcome: { kind: 'confirmed', entry, retry: false }, writes, expired };
  }

  release(vmId: string, nowMs: number): Step<ReleaseOutcome> {
    const writes: LedgerWrite[] = [];
    const expired = this.expireInto(nowMs, writes);
    const held = this.byVm.get(vmId);
    if (!held) return { outcome: { kind: 'not-found' }, writes, expired };
    this.remove(held);
    writes.push({ op: 'delete', key: ledgerKey(vmId) });
    return { outcome: { kind: 'released', entry: held }, writes, expired };
  }

  /** Changes the size of a reservation (a zone's memory update); growing needs the headroom. */
  resize(vmId: string, ramMb: number, nowMs: number): Step<ResizeOutcome> {
    checkAmount('ramMb', ramMb);
    const writes: LedgerWrite[] = [];
    const expired = this.expireInto(nowMs, writes);
    const held = this.byVm.get(vmId);
    if (!held) return { outcome: { kind: 'not-found' }, writes, expired };
    const growth = ramMb - held.ramMb;
    if (growth > 0 && growth > this.headroomMb()) return { outcome: { kind: 'refused', freeMb: Math.max(0, this.headroomMb()) }, writes, expired };
    const entry = this.replace(held, { ...held, ramMb });
    if (entry !== held) writes.push({ op: 'put', key: ledgerKey(vmId), value: entry });
    return { outcome: { kind: 'resized', entry }, writes, expired };
  }

  /** Records that the driver has a zone for this reservation (created, or found at reconcile). */
  markZoneSeen(vmId: string, nowMs: number): Step<LedgerEntry | undefined> {
    const writes: LedgerWrite[] = [];
    const expired = this.expireInto(nowMs, writes);
    const held = this.byVm.get(vmId);
    if (!held || (held.zoneSeen && held.state === 'provisioned')) return { outcome: held, writes, expired };
    const entry = this.replace(held, asProvisioned(held, true));
    writes.push({ op: 'put', key: ledgerKey(vmId), value: entry });
    return { outcome: entry, writes, expired };
  }

  /** Ends the leases that ran out by `nowMs`. */
  expire(nowMs: number): Step<number> {
    const writes: LedgerWrite[] = [];
    const expired = this.expireInto(nowMs, writes);
    return { outcome: expired.length, writes, expired };
  }

  /**
   * Brings the ledger in line with the zones the driver has (they are the truth about memory in
   * use): unknown zones are adopted as provisioned, reservations whose zone exists become
   * provisioned at the zone's size, and provisioned reservations whose zone existed but is gone
   * are released. A reservation confirmed for a zone not created yet (`zoneSeen` false) stays.
   */
  reconcile(zones: Iterable<{ uuid: string; ramMb: number }>, nowMs: number): Step<ReconcileReport> {
    const writes: LedgerWrite[] = [];
    const expired = this.expireInto(nowMs, writes);
    const report: ReconcileReport = { adopted: [], updated: [], released: [] };
    const present = new Set<string>();
    for (const z of zones) {
      present.add(z.uuid);
      const held = this.byVm.get(z.uuid);
      const want: LedgerEntry = { vmId: z.uuid, ramMb: z.ramMb, state: 'provisioned', grantedAtMs: held?.grantedAtMs ?? Math.floor(nowMs), zoneSeen: true };
      if (held && held.state === 'provisioned' && held.zoneSeen && held.ramMb === z.ramMb) continue;
      if (held) {
        this.replace(held, want);
        report.updated.push(z.uuid);
      } else {
        this.put(want);
        report.adopted.push(z.uuid);
      }
      writes.push({ op: 'put', key: ledgerKey(z.uuid), value: want });
    }
    for (const e of [...this.byVm.values()]) {
      if (e.state !== 'provisioned' || !e.zoneSeen || present.has(e.vmId)) continue;
      this.remove(e);
      report.released.push(e.vmId);
      writes.push({ op: 'delete', key: ledgerKey(e.vmId) });
    }
    return { outcome: report, writes, expired };
  }

  /** A new capacity (the host's memory or the host reservation changed across a restart). */
  setCapacity(capacity: Capacity): void {
    checkCapacity(capacity);
    this.capacity = capacity;
  }

  /** Recomputes the sums from scratch and compares (tests, and the simulator after every event). */
  checkInvariants(): void {
    let pending = 0;
    let provisioned = 0;
    let pendingCount = 0;
    for (const e of this.byVm.values()) {
      if (e.state === 'pending') {
        pending += e.ramMb;
        pendingCount++;
        if (e.expiresAtMs === undefined) throw new AgentBugError(`pending reservation ${e.vmId} has no lease`);
      } else {
        provisioned += e.ramMb;
      }
    }
    if (pending !== this.pendingMb || provisioned !== this.provisionedMb || pendingCount !== this.pendingCount) {
      throw new AgentBugError(`ledger sums drifted: pending ${this.pendingMb}/${pending} MB, provisioned ${this.provisionedMb}/${provisioned} MB`);
    }
  }

  // ---- state changes (the only places the sums move) ----

  private put(e: LedgerEntry): void {
    if (this.byVm.has(e.vmId)) throw new AgentBugError(`reservation ${e.vmId} added twice`);
    this.byVm.set(e.vmId, e);
    this.count(e, +1);
    if (e.state === 'pending' && e.expiresAtMs !== undefined) this.heap.push(e.expiresAtMs, e.vmId);
  }

  private remove(e: LedgerEntry): void {
    this.byVm.delete(e.vmId);
    this.count(e, -1);
    // Its heap item goes stale and is skipped; rebuild when stale items dominate.
    if (this.heap.size > 2 * this.pendingCount + 1024) this.heap.rebuild(this.liveLeases());
  }

  private replace(old: LedgerEntry, next: LedgerEntry): LedgerEntry {
    if (old.ramMb === next.ramMb && old.state === next.state && old.zoneSeen === next.zoneSeen && old.expiresAtMs === next.expiresAtMs) return old;
    this.remove(old);
    this.put(next);
    return next;
  }

  private count(e: LedgerEntry, sign: 1 | -1): void {
    if (e.state === 'pending') {
      this.pendingMb += sign * e.ramMb;
      this.pendingCount += sign;
    } else {
      this.provisionedMb += sign * e.ramMb;
    }
  }

  private *liveLeases(): Iterable<{ atMs: number; vmId: string }> {
    for (const e of this.byVm.values()) if (e.state === 'pending' && e.expiresAtMs !== undefined) yield { atMs: e.expiresAtMs, vmId: e.vmId };
  }

  private expireInto(nowMs: number, writes: LedgerWrite[]): LedgerEntry[] {
    const out: LedgerEntry[] = [];
    for (let at = this.nextExpiryMs(); at !== undefined && at <= nowMs; at = this.nextExpiryMs()) {
      const { vmId } = this.heap.pop()!;
      const e = this.byVm.get(vmId)!;
      this.remove(e);
      writes.push({ op: 'delete', key: ledgerKey(vmId) });
      out.push(e);
    }
    return out;
  }
}

/** The provisioned form of a reservation: no lease (the key is absent, not undefined, so it stores cleanly). */
function asProvisioned(e: LedgerEntry, zoneSeen: boolean): LedgerEntry {
  return { vmId: e.vmId, ramMb: e.ramMb, state: 'provisioned', grantedAtMs: e.grantedAtMs, zoneSeen };
}

function checkAmount(what: string, v: number): void {
  if (!Number.isSafeInteger(v) || v <= 0) throw new AgentBugError(`${what} must be a positive integer, got ${v} (validate requests before the ledger)`);
}

function checkCapacity(c: Capacity): void {
  if (!Number.isSafeInteger(c.totalMb) || c.totalMb < 0 || !Number.isSafeInteger(c.reservedForHostMb) || c.reservedForHostMb < 0) {
    throw new AgentBugError(`capacity must be non-negative integers, got ${JSON.stringify(c)}`);
  }
}
