/**
 * One quorum read's collection of answers, asking as few replicas as it can.
 *
 * A read needs R answers that count (routing.ts). It asks the first R counting entries of its
 * order (this node's own replica first: it costs no message), and more only when they cannot
 * make R: a failure, or an answer that does not count, asks the next entry in its place at once;
 * a read still unanswered after the hedge delay asks every entry it has not asked yet (a slow
 * replica is as bad as a failed one; Dean and Barroso's "hedged requests", Cassandra's
 * speculative retry). riak_kv asks all N and waits for R; asking R halves the messages of a read
 * at N = 3, R = 2, and keeps R + W > N intersecting the same way, since whichever R answer are
 * the ones that count. Read repair covers the replicas asked (anti-entropy covers the rest).
 *
 * `readOrder` / `readPlan` give the order (per route, cached with it); `Hedges` holds the rounds
 * waiting for their hedge (one timer for all).
 *
 * The round resolves with every answer it has once R count, rejects once every entry was asked
 * and settled without R, and calls its asker's `allSettled` with all outcomes once the round is
 * over and every replica it asked has settled (read repair). What it asks and how answers count
 * come from one `RoundAsker` object (the coordinator's read: coordinator.ts), not from closures:
 * a read runs per request, and its state is then one object instead of several closures.
 */
import type { Clock, Timer } from '@shoal/runtime';
import { NoQuorumError, QuorumTimeoutError } from './errors.js';
import type { RingErrorCode } from './errors.js';
import type { Route, RouteEntry } from './routing.js';

export type Outcome<R> = { readonly ok: true; readonly reply: R } | { readonly ok: false; readonly code: RingErrorCode; readonly why: string };

export interface RoundResult<R> {
  readonly replies: (R | undefined)[];
  readonly counted: number;
}

/** What a round asks, and how it judges answers (one per read: its fields are the read's state). */
export interface RoundAsker<R> {
  /** Whether entry i's answer can count if it is good (the route's `counts`). */
  countsIfOk(i: number): boolean;
  /** Whether this answer of entry i counts (it may still not: an old holder's "absent"). */
  counts(reply: R, i: number): boolean;
  /** Sends the request to entry i; must lead to `settle(i, outcome)` exactly once. */
  ask(i: number): void;
  /** The request in words, for the round's errors ("read of vms/x"). */
  what(): string;
  /** Once the round is over and every entry it asked has settled (read repair). */
  allSettled?(outcomes: readonly (Outcome<R> | undefined)[]): void;
}

export class ReadRound<R> {
  readonly promise: Promise<RoundResult<R>>;
  private resolve!: (r: RoundResult<R>) => void;
  private reject!: (e: Error) => void;
  private readonly outcomes: (Outcome<R> | undefined)[];
  private readonly replies: (R | undefined)[];
  private next = 0;
  private asked = 0;
  private settled = 0;
  private counted = 0;
  /** Asked and not yet settled entries that would count if they answered well. */
  private hopeful = 0;
  private done = false;
  /** `allSettled` is called once: cleared when it has been. */
  private repairPending = true;

  /**
   * @param order every entry index once, in the order to ask them: counting entries first
   * @param needed answers that must count (R)
   */
  constructor(
    private readonly order: readonly number[],
    private readonly needed: number,
    private readonly asker: RoundAsker<R>,
  ) {
    const n = order.length; // a permutation of the route's entries
    this.outcomes = new Array<Outcome<R> | undefined>(n).fill(undefined);
    this.replies = new Array<R | undefined>(n).fill(undefined);
    this.promise = new Promise((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
  }

  /** Asks the first entries: enough that R could count. */
  start(): void {
    this.topUp();
    this.finish();
  }

  get isDone(): boolean {
    return this.done;
  }

  /** The hedge: asks every entry not asked yet (nothing once the round is over). */
  hedge(): void {
    if (this.done) return;
    while (this.next < this.order.length) this.askNext();
  }

  settle(i: number, o: Outcome<R>): void {
    if (this.outcomes[i] !== undefined) return; // settled already (a caller bug would double-count)
    this.outcomes[i] = o;
    this.settled++;
    if (this.asker.countsIfOk(i)) this.hopeful--;
    if (o.ok) {
      this.replies[i] = o.reply;
      if (this.asker.counts(o.reply, i)) this.counted++;
    }
    if (!this.done) this.topUp();
    this.finish();
  }

  private askNext(): void {
    const i = this.order[this.next++]!;
    this.asked++;
    if (this.asker.countsIfOk(i)) this.hopeful++;
    this.asker.ask(i);
  }

  /** Asks more while those asked cannot make R any more. */
  private topUp(): void {
    while (this.counted + this.hopeful < this.needed && this.next < this.order.length) this.askNext();
  }

  private finish(): void {
    if (!this.done) {
      if (this.counted >= this.needed) {
        this.done = true;
        this.resolve({ replies: [...this.replies], counted: this.counted });
      } else if (this.settled === this.asked && this.next >= this.order.length) {
        this.done = true;
        const all = this.outcomes.filter((o): o is Outcome<R> => o !== undefined);
        const timedOut = all.some((o) => !o.ok && o.code === 'timeout');
        const why = all.flatMap((o) => (o.ok ? [] : [o.why])).join('; ');
        const message = `${this.asker.what()}: ${this.counted} of the ${this.needed} replicas needed answered${why ? ` (${why})` : ''}`;
        this.reject(timedOut ? new QuorumTimeoutError(`timeout: ${message}`) : new NoQuorumError(`no quorum: ${message}`));
      }
    }
    if (this.done && this.settled === this.asked && this.repairPending) {
      this.repairPending = false;
      this.asker.allSettled?.(this.outcomes);
    }
  }
}

/** The order a read asks a route's entries in: counting entries (this node's first), then the rest. */
export function readOrder(entries: readonly RouteEntry[], self: string): number[] {
  const idx = entries.map((_, i) => i);
  const rank = (i: number): number => (entries[i]!.counts ? (entries[i]!.node === self ? 0 : 1) : 2);
  return idx.sort((a, b) => rank(a) - rank(b) || a - b);
}

/** Per route (the view keeps routes until something changes): the read order and how many entries count. */
const readPlans = new WeakMap<Route, { readonly order: readonly number[]; readonly counting: number }>();

export function readPlan(route: Route, self: string): { readonly order: readonly number[]; readonly counting: number } {
  let plan = readPlans.get(route);
  if (plan === undefined) readPlans.set(route, (plan = { order: readOrder(route.entries, self), counting: route.entries.filter((e) => e.counts).length }));
  return plan;
}

/**
 * Reads waiting for their hedge (read-round.ts), in the order they started (so a queue, not a
 * set): one timer for all of them, armed while any waits, for the oldest one's hedge time. A
 * round already over is skipped when its time comes.
 */
interface Hedgeable {
  readonly isDone: boolean;
  hedge(): void;
}

export class Hedges {
  private rounds: Hedgeable[] = [];
  private startedMs: number[] = [];
  private head = 0;
  private timer: Timer | undefined;

  constructor(
    private readonly clock: Clock,
    private readonly delayMs: number,
  ) {}

  add(round: Hedgeable): void {
    this.rounds.push(round);
    this.startedMs.push(this.clock.monoMs());
    this.timer ??= this.clock.setTimer(this.delayMs, this.fire);
  }

  private readonly fire = (): void => {
    this.timer = undefined;
    const due = this.clock.monoMs() - this.delayMs;
    while (this.head < this.rounds.length && this.startedMs[this.head]! <= due) {
      const round = this.rounds[this.head]!;
      this.head++;
      if (!round.isDone) round.hedge();
    }
    if (this.head > 1024 && this.head * 2 > this.rounds.length) {
      this.rounds = this.rounds.slice(this.head);
      this.startedMs = this.startedMs.slice(this.head);
      this.head = 0;
    }
    if (this.head < this.rounds.length) this.timer = this.clock.setTimer(Math.max(1, this.startedMs[this.head]! - due), this.fire);
  };

  stop(): void {
    this.timer?.cancel();
    this.timer = undefined;
    this.rounds = [];
    this.startedMs = [];
    this.head = 0;
  }
}
