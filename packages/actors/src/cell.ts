/**
 * Cell: one live actor — its mailbox, its state, its status — and the loop that feeds it
 * messages.
 *
 * Status (exhaustive; the run queue and the supervisor switch on it):
 *   ready       may process messages; in the system's run queue iff `inQueue` and it has mail
 *   running     its behaviour is executing (synchronously, inside `run`)
 *   awaiting    its behaviour returned a promise; the next message waits for it to settle
 *   suspended   it crashed; its supervisor has not decided yet
 *   restarting  a restart is waiting out its backoff delay
 *   stopped     final
 * Messages are accepted in every status but `stopped`; only `ready` drains them.
 *
 * Invariants:
 * - One message at a time per actor, in arrival order (per sender, and overall).
 * - A synchronous behaviour result is used directly: no promise, no microtask.
 * - `incarnation` changes on every restart and on stop; a behaviour result or promise settling
 *   for an older incarnation is ignored (it belongs to an actor that no longer exists).
 * - Sending to a cell costs O(1): a bounds check, a ring-buffer push, and — only on the
 *   transition from empty to non-empty — one push onto the system's run queue.
 */
import type { Logger, Timer } from '@shoal/runtime';
import { ActorPath, ChildrenView, Ctx, type MailboxEntry, type StopContext, type SupervisionContext } from './context.js';
import type { CellProps } from './props.js';
import { PairQueue } from './queue.js';
import { makeRef, type ActorRef } from './ref.js';
import { decisions } from './supervision.js';
import { supervise } from './supervisor.js';
import type { ActorSystem } from './system.js';

export type CellStatus = 'ready' | 'running' | 'awaiting' | 'suspended' | 'restarting' | 'stopped';

type AnyRef = ActorRef<unknown>;
// The behaviour's real type is checked at spawn; here it is called with the right arity.
type Fn = (this: unknown, a: unknown, b: unknown, c?: unknown) => unknown;

/** A monitor on this actor, held by `watcher` (local or remote). */
export interface Watch {
  readonly watcher: AnyRef;
  readonly id: number;
}

const noRestarts: readonly number[] = Object.freeze([]);

export function isThenable(x: unknown): x is PromiseLike<unknown> {
  return ((typeof x === 'object' && x !== null) || typeof x === 'function') && typeof (x as { then?: unknown }).then === 'function';
}

export class Cell {
  readonly ref: AnyRef;
  readonly parentRef: AnyRef;
  /** Path joined with '/': the key of the system's registry. */
  readonly key: string;
  readonly depth: number;
  readonly mailbox = new PairQueue();
  readonly mailboxMax: number;
  children: Map<string, Cell> | undefined = undefined;
  status: CellStatus = 'ready';
  inQueue = false;
  state: unknown = undefined;
  incarnation = 0;
  /** Crashed and not yet resumed or restarted (a stop then reports reason `crashed`). */
  crashed = false;
  /** Escalated because its restart intensity was exceeded; a second overflow stops it. */
  escalatedForIntensity = false;
  restartHistory: readonly number[] = noRestarts;
  /** Monitors on this actor, by `${watcher node}#${id}`. */
  watches: Map<string, Watch> | undefined = undefined;
  /** Ids of the monitors this actor holds as a watcher. */
  held: Set<number> | undefined = undefined;
  private restartTimer: Timer | undefined = undefined;
  private idleTimer: Timer | undefined = undefined;
  private idleSinceMs = 0;
  private pathObject: ActorPath | undefined = undefined;
  private view: ChildrenView | undefined = undefined;
  private log: Logger | undefined = undefined;

  constructor(
    readonly system: ActorSystem,
    readonly parent: Cell | undefined,
    readonly name: string,
    private readonly behaviour: Fn,
    readonly stateless: boolean,
    readonly props: CellProps,
  ) {
    const path = parent === undefined ? [] : [...parent.ref.path, name];
    // The root's ref caches no cell: the root is not an actor and receives nothing.
    this.ref = makeRef(system, system.name, path, parent === undefined ? undefined : this);
    this.parentRef = parent?.ref ?? this.ref;
    this.key = path.join('/');
    this.depth = path.length;
    this.mailboxMax = props.mailboxMax;
  }

  /** Called once by spawn: initial state, then the idle clock. */
  start(): void {
    if (this.initState() && this.status === 'ready') this.afterReady();
  }

  enqueue(msg: unknown, sender: AnyRef | undefined): void {
    const box = this.mailbox;
    if (box.size >= this.mailboxMax) {
      this.system.deadLetter('mailbox-full', this.ref, msg, sender);
      return;
    }
    box.push(msg, sender);
    this.system.pendingMessages++;
    if (this.status === 'ready' && !this.inQueue) this.system.schedule(this);
  }

  /** Processes up to `budget` messages; returns how many it took. Called by the run queue. */
  run(budget: number): number {
    this.inQueue = false;
    // A stale run-queue entry: suspended, restarting, awaiting or stopped since it was queued.
    if (this.status !== 'ready') return 0;
    this.status = 'running';
    const box = this.mailbox;
    let n = 0;
    while (n < budget && box.size > 0) {
      const msg = box.frontMessage();
      const sender = box.frontSender() as AnyRef | undefined;
      box.dropFront();
      this.system.pendingMessages--;
      n++;
      this.invoke(msg, sender);
      if (this.status !== 'running') return n;
    }
    this.status = 'ready';
    this.afterReady();
    return n;
  }

  private invoke(msg: unknown, sender: AnyRef | undefined): void {
    const ctx = new Ctx<unknown>(this, sender ?? this.system.nobody);
    const inc = this.incarnation;
    let result: unknown;
    try {
      result = this.stateless ? this.behaviour.call(ctx, msg, ctx) : this.behaviour.call(ctx, this.state, msg, ctx);
    } catch (err) {
      // Ignored if the behaviour stopped or restarted its own actor before throwing.
      if (inc === this.incarnation) this.crash(msg, sender, err);
      return;
    }
    if (isThenable(result)) {
      this.await(result, inc, msg, sender);
      return;
    }
    if (inc === this.incarnation && !this.stateless) this.state = result;
  }

  private await(result: PromiseLike<unknown>, inc: number, msg: unknown, sender: AnyRef | undefined): void {
    if (inc !== this.incarnation) {
      // The actor stopped or restarted inside the behaviour: nobody waits for this result.
      result.then(undefined, (err: unknown) => this.logger().debug('ignored rejection after stop or restart', { err }));
      return;
    }
    this.status = 'awaiting';
    result.then(
      (value) => {
        // Guard: the actor stopped or restarted while the promise was pending.
        if (inc !== this.incarnation || this.status !== 'awaiting') return;
        if (!this.stateless) this.state = value;
        this.status = 'ready';
        this.afterReady();
      },
      (err: unknown) => {
        if (inc !== this.incarnation || this.status !== 'awaiting') return;
        this.crash(msg, sender, err);
      },
    );
  }

  /** Back to `ready`: queue the cell if mail is waiting, else start the idle clock. */
  private afterReady(): void {
    if (this.mailbox.size > 0) {
      if (!this.inQueue) this.system.schedule(this);
      return;
    }
    if (this.props.shutdownAfterMs > 0) this.startIdleClock();
  }

  crash(msg: unknown, sender: AnyRef | undefined, err: unknown): void {
    this.status = 'suspended';
    this.crashed = true;
    supervise(this, msg, sender, err);
  }

  /** Supervisor: go on with the next message, state unchanged. */
  resume(): void {
    if (this.status !== 'suspended') return;
    this.crashed = false;
    this.status = 'ready';
    this.afterReady();
  }

  /**
   * Supervisor: restart — stop the children now, reinitialise the state after `delayMs`
   * (at once if `immediate`), then go on with the queued messages.
   */
  beginRestart(delayMs: number, immediate: boolean): void {
    this.incarnation++;
    this.status = 'restarting';
    this.cancelTimers();
    this.system.stopChildren(this);
    if (immediate) {
      this.restartNow();
      return;
    }
    this.restartTimer = this.system.clock.setTimer(delayMs, () => {
      this.restartTimer = undefined;
      if (this.status === 'restarting') this.restartNow();
    });
  }

  private restartNow(): void {
    this.crashed = false;
    this.status = 'ready';
    if (this.initState() && this.status === 'ready') this.afterReady();
  }

  /** Sets the initial state; false if `initialStateFunc` threw (supervision has taken over). */
  private initState(): boolean {
    const f = this.props.initialStateFunc;
    if (f === undefined) {
      this.state = this.props.initialState;
      return true;
    }
    const inc = this.incarnation;
    try {
      this.state = f(new Ctx<unknown>(this, this.system.nobody));
      return true;
    } catch (err) {
      if (inc === this.incarnation && this.status !== 'stopped') this.crash(undefined, undefined, err);
      return false;
    }
  }

  private startIdleClock(): void {
    this.idleSinceMs = this.system.clock.monoMs();
    if (this.idleTimer === undefined) this.armIdleTimer(this.props.shutdownAfterMs);
  }

  private armIdleTimer(delayMs: number): void {
    this.idleTimer = this.system.clock.setTimer(delayMs, () => {
      this.idleTimer = undefined;
      // Busy now: the next transition to idle re-arms the timer.
      if (this.status !== 'ready' || this.mailbox.size > 0) return;
      const idleMs = this.system.clock.monoMs() - this.idleSinceMs;
      if (idleMs >= this.props.shutdownAfterMs) this.system.stopCell(this, 'stopped');
      else this.armIdleTimer(this.props.shutdownAfterMs - idleMs);
    });
  }

  /** Stop: invalidate pending work and timers (the system does the rest). */
  markStopped(): void {
    this.status = 'stopped';
    this.incarnation++;
    this.cancelTimers();
  }

  private cancelTimers(): void {
    this.idleTimer?.cancel();
    this.idleTimer = undefined;
    this.restartTimer?.cancel();
    this.restartTimer = undefined;
  }

  actorPath(): ActorPath {
    return (this.pathObject ??= new ActorPath(this.system.name, this.ref.path));
  }

  childrenView(): ChildrenView {
    return (this.view ??= new ChildrenView(this));
  }

  logger(): Logger {
    return (this.log ??= this.system.log.child({ actor: this.ref.toString() }));
  }

  supervisionContext(): SupervisionContext<unknown> {
    return { ...new Ctx<unknown>(this, this.system.nobody), ...decisions, mailbox: this.mailbox.snapshot() };
  }

  stopContext(mailbox: readonly MailboxEntry[]): StopContext<unknown> {
    return { ...new Ctx<unknown>(this, this.ref), mailbox };
  }

  callAfterStop(mailbox: readonly MailboxEntry[]): void {
    const f = this.props.afterStop;
    if (f === undefined) return;
    const fail = (err: unknown): void => this.logger().error('afterStop failed', { err });
    try {
      const r = f(this.state, this.stopContext(mailbox));
      if (isThenable(r)) r.then(undefined, fail);
    } catch (err) {
      fail(err);
    }
  }
}
