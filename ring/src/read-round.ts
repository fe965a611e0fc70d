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
 * The round resolves with every answer it has once R count, rejects once every entry was asked
 * and settled without R, and calls `onAll` with all outcomes once the round is over and every
 * replica it asked has settled (read repair).
 */
import { NoQuorumError, QuorumTimeoutError } from './errors.js';
import type { RingErrorCode } from './errors.js';

export type Outcome<R> = { readonly ok: true; readonly reply: R } | { readonly ok: false; readonly code: RingErrorCode; readonly why: string };

export interface RoundResult<R> {
  readonly replies: (R | undefined)[];
  readonly counted: number;
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
  onAll: ((outcomes: readonly (Outcome<R> | undefined)[]) => void) | undefined;

  /**
   * @param order entry indexes in the order to ask them: counting entries first
   * @param countsIfOk whether an entry's answer can count (route `counts`)
   * @param counts whether this answer counts (it may still not: an old holder's "absent")
   * @param ask sends the request to entry i; must call `settle(i, outcome)` exactly once
   */
  constructor(
    private readonly order: readonly number[],
    private readonly needed: number,
    private readonly countsIfOk: (i: number) => boolean,
    private readonly counts: (reply: R, i: number) => boolean,
    private readonly ask: (i: number) => void,
    private readonly what: string,
  ) {
    const n = order.length === 0 ? 0 : Math.max(...order) + 1;
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
    if (this.countsIfOk(i)) this.hopeful--;
    if (o.ok) {
      this.replies[i] = o.reply;
      if (this.counts(o.reply, i)) this.counted++;
    }
    if (!this.done) this.topUp();
    this.finish();
  }

  private askNext(): void {
    const i = this.order[this.next++]!;
    this.asked++;
    if (this.countsIfOk(i)) this.hopeful++;
    this.ask(i);
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
        const message = `${this.what}: ${this.counted} of the ${this.needed} replicas needed answered${why ? ` (${why})` : ''}`;
        this.reject(timedOut ? new QuorumTimeoutError(`timeout: ${message}`) : new NoQuorumError(`no quorum: ${message}`));
      }
    }
    if (this.done && this.settled === this.asked && this.onAll) {
      const onAll = this.onAll;
      this.onAll = undefined;
      onAll(this.outcomes);
    }
  }
}
