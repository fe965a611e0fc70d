/**
 * ActorSystem: one node's actors — the registry, the run queue, sending, spawning, stopping,
 * queries, monitors — and the inbound side of the remoting seam.
 *
 * Scheduling. Actors with pending messages wait in one system-wide FIFO run queue. One
 * `clock.defer` turn drains it: each actor in turn processes up to `messagesPerRunMax`
 * messages, until the queue is empty or `messagesPerTurnMax` messages were processed in the
 * turn; then the loop yields (another `defer`) so I/O callbacks run. A message sent while the
 * queue is draining — the reply in a ping-pong, say — is processed in the same turn: a hop
 * between local actors costs a queue push, never a `defer`.
 *
 * Costs, whatever the number of actors, siblings or children: a send is O(1) (the ref caches
 * its cell; a ref without one is resolved by one Map lookup on its joined path); a spawn is
 * O(depth); a stop is O(size of the stopped subtree).
 *
 * Nothing is lost silently: a message that cannot be delivered is a dead letter (dead-letters.ts).
 */
import { jsonLogger, nodeClock, nodeRandom, type Clock, type Logger, type Random } from '@shoal/runtime';
import { Cell } from './cell.js';
import { checkDurationMs, makeConfig, type StartOptions, type SystemConfig } from './config.js';
import { DeadLetters, type DeadLetterReason } from './dead-letters.js';
import {
  ActorConfigError,
  ActorStoppedError,
  DuplicateActorNameError,
  InvalidRefError,
  NodeDownError,
  NotLocalError,
  SystemStoppedError,
  UndeliverableError,
} from './errors.js';
import { MonitorTable, isDownMessage, type DownMessage, type DownReason } from './monitors.js';
import { anonymousName, checkActorName, depthMax, nobodyName } from './names.js';
import { cellProps, type ActorProps } from './props.js';
import { QueryTable, isQueryRef, type UndeliverableNotice } from './queries.js';
import { RingQueue } from './queue.js';
import { ActorRef, makeRef, refCell, refFromJSON, setRefCell } from './ref.js';
import type { RemoteRouter } from './remote.js';

type AnyRef = ActorRef<unknown>;
type Fn = (this: unknown, a: unknown, b: unknown, c?: unknown) => unknown;

export interface SystemStats {
  actors: number;
  /** Messages waiting in mailboxes. */
  pendingMessages: number;
  runQueue: number;
  pendingQueries: number;
  monitors: number;
  deadLetters: number;
}

export class ActorSystem {
  /** The node name (nact: the system name). */
  readonly name: string;
  readonly config: SystemConfig;
  readonly clock: Clock;
  readonly random: Random;
  readonly log: Logger;
  readonly deadLetters: DeadLetters;
  /** The root ref: the parent of top-level actors; `stop(root)` stops the system. */
  readonly root: ActorRef<never>;
  /** The sender of messages that had none; sends to it are dead letters (`nobody`). */
  readonly nobody: AnyRef;
  private readonly rootCell: Cell;
  private readonly cells = new Map<string, Cell>();
  private readonly runQueue = new RingQueue<Cell>();
  private readonly queries: QueryTable;
  private readonly monitors: MonitorTable;
  private draining = false;
  /** Engine: messages in all mailboxes (a remote transport slows its links when this is high). */
  pendingMessages = 0;
  private deferred = false;
  private anonymousCount = 0;
  private router: RemoteRouter | undefined = undefined;
  private stopped = false;

  constructor(opts: StartOptions = {}) {
    this.config = makeConfig(opts);
    this.name = this.config.name;
    this.clock = opts.clock ?? nodeClock();
    this.random = opts.random ?? nodeRandom();
    const base = opts.logger ?? jsonLogger(this.clock, 'warn', (s) => process.stderr.write(s));
    this.log = base.child({ node: this.name });
    const { deadLetterLogBurstMax, deadLetterLogWindowMs } = this.config;
    this.deadLetters = new DeadLetters(this.clock, this.log, deadLetterLogBurstMax, deadLetterLogWindowMs);
    this.queries = new QueryTable(this);
    this.monitors = new MonitorTable(this);
    this.rootCell = new Cell(this, undefined, '', () => undefined, true, cellProps(undefined, this.config));
    this.root = this.rootCell.ref as ActorRef<never>;
    this.nobody = makeRef(this, this.name, [nobodyName], undefined);
  }

  get isStopped(): boolean {
    return this.stopped;
  }

  get remoteRouter(): RemoteRouter | undefined {
    return this.router;
  }

  stats(): SystemStats {
    return {
      actors: this.cells.size,
      pendingMessages: this.pendingMessages,
      runQueue: this.runQueue.size,
      pendingQueries: this.queries.size,
      monitors: this.monitors.size,
      deadLetters: this.deadLetters.total,
    };
  }

  // ---- scheduling ------------------------------------------------------------------------

  /** Engine: puts a ready cell with mail on the run queue (cell.ts calls this). */
  schedule(cell: Cell): void {
    cell.inQueue = true;
    this.runQueue.push(cell);
    if (!this.draining && !this.deferred) {
      this.deferred = true;
      this.clock.defer(this.drain);
    }
  }

  private readonly drain = (): void => {
    this.deferred = false;
    this.draining = true;
    const queue = this.runQueue;
    const perRun = this.config.messagesPerRunMax;
    let budget = this.config.messagesPerTurnMax;
    try {
      while (budget > 0) {
        const cell = queue.shift();
        if (cell === undefined) break;
        budget -= cell.run(budget < perRun ? budget : perRun);
      }
    } finally {
      this.draining = false;
      if (queue.size > 0 && !this.deferred) {
        this.deferred = true;
        this.clock.defer(this.drain);
      }
    }
  };

  // ---- sending ---------------------------------------------------------------------------

  /** `dispatch` for a ref bound to this system. Throws only if the router refuses. */
  send(ref: AnyRef, msg: unknown, sender: AnyRef | undefined): void {
    const cell = refCell(ref);
    if (cell !== undefined && cell.status !== 'stopped') {
      cell.enqueue(msg, sender);
      return;
    }
    if (ref.node !== this.name) {
      this.sendRemote(ref, msg, sender);
      return;
    }
    this.sendLocal(ref, msg, sender, cell);
  }

  private sendRemote(ref: AnyRef, msg: unknown, sender: AnyRef | undefined): void {
    const router = this.router;
    if (router === undefined) {
      this.deadLetter('no-route', ref, msg, sender);
      return;
    }
    router.send(ref, msg, sender);
  }

  private sendLocal(ref: AnyRef, msg: unknown, sender: AnyRef | undefined, cached: Cell | undefined): void {
    const path = ref.path;
    if (isQueryRef(ref)) {
      if (!this.queries.reply(path[1] ?? '', msg)) this.deadLetter('query-closed', ref, msg, sender);
      return;
    }
    if (path.length === 1 && path[0] === nobodyName) {
      this.deadLetter('nobody', ref, msg, sender);
      return;
    }
    const cell = this.stopped ? undefined : this.cells.get(path.join('/'));
    if (cell === undefined) {
      this.deadLetter(cached !== undefined || this.stopped ? 'stopped' : 'unknown', ref, msg, sender);
      return;
    }
    if (ref.system === this) setRefCell(ref, cell);
    cell.enqueue(msg, sender);
  }

  /** Internal sends (down messages, notices): a refusing router makes a dead letter, not a throw. */
  private trySend(ref: AnyRef, msg: unknown): void {
    try {
      this.send(ref, msg, undefined);
    } catch (err) {
      this.log.warn('router refused a system message', { to: ref.toString(), err });
      this.deadLetters.record({ reason: 'no-route', to: ref, message: msg, sender: undefined });
    }
  }

  /** Engine: a monitor's down message (monitors.ts). */
  sendDown(watcher: AnyRef, target: AnyRef, reason: DownReason, monitorId: number): void {
    const down: DownMessage = { type: 'shoal.down', ref: target, reason, monitorId };
    this.trySend(watcher, down);
  }

  /**
   * Engine: records a dead letter. If its sender is a query's temp ref, that query fails at once rather
   * than at its timeout: here if it is ours, through a notice if it is another node's.
   */
  deadLetter(reason: DeadLetterReason, to: AnyRef, msg: unknown, sender: AnyRef | undefined): void {
    this.deadLetters.record({ reason, to, message: msg, sender });
    if (sender === undefined || reason === 'query-closed' || !isQueryRef(sender)) return;
    if (sender.node === this.name) {
      this.queries.fail(sender.path[1] ?? '', new UndeliverableError(to.toString(), reason));
      return;
    }
    const notice: UndeliverableNotice = { type: 'shoal.undeliverable', ref: to, reason };
    this.trySend(sender.system === this ? sender : refFromJSON(this, sender), notice);
  }

  // ---- lookup, spawn, stop ---------------------------------------------------------------

  /** Engine: the live local cell a ref names, if any (caches it in the ref). */
  resolveLocal(ref: AnyRef): Cell | undefined {
    const cached = refCell(ref);
    if (cached !== undefined && cached.status !== 'stopped') return cached;
    if (ref.node !== this.name || this.stopped) return undefined;
    const cell = this.cells.get(ref.path.join('/'));
    if (cell !== undefined && ref.system === this) setRefCell(ref, cell);
    return cell;
  }

  spawn<M>(parentRef: AnyRef, f: unknown, name: unknown, props: ActorProps<unknown, unknown> | undefined, stateless: boolean): ActorRef<M> {
    if (typeof f !== 'function') throw new ActorConfigError('a behaviour must be a function');
    if (this.stopped) throw new SystemStoppedError(`system ${this.name} is stopped`);
    const parent = this.parentCell(parentRef);
    const childName = name ? checkActorName(name) : anonymousName(++this.anonymousCount);
    if (parent.children?.has(childName)) {
      throw new DuplicateActorNameError(`${parentRef.toString()} already has a child named ${JSON.stringify(childName)}`);
    }
    if (parent.depth >= depthMax) throw new ActorConfigError(`actor tree deeper than ${depthMax} levels under ${parentRef.toString()}`);
    const cell = new Cell(this, parent, childName, f as Fn, stateless, cellProps(props, this.config));
    (parent.children ??= new Map()).set(childName, cell);
    this.cells.set(cell.key, cell);
    cell.start();
    return cell.ref as ActorRef<M>;
  }

  private parentCell(ref: AnyRef): Cell {
    if (ref.node !== this.name) throw new NotLocalError(`cannot spawn under ${ref.toString()}: not on node ${this.name}`);
    if (ref.path.length === 0) return this.rootCell;
    const cell = this.resolveLocal(ref);
    if (cell === undefined) throw new ActorStoppedError(`cannot spawn under ${ref.toString()}: it is stopped or never existed`);
    return cell;
  }

  /** `stop(ref)`: a local actor (no-op if already gone, as in nact), or the system for its root. */
  stopRef(ref: AnyRef): void {
    if (ref.node !== this.name) throw new NotLocalError(`cannot stop ${ref.toString()}: not on node ${this.name}`);
    if (ref.path.length === 0) {
      this.stop();
      return;
    }
    const cell = this.resolveLocal(ref);
    if (cell !== undefined) this.stopCell(cell, 'stopped');
  }

  /**
   * Engine: stops a cell and its subtree, children before parents: first every cell of the subtree is
   * marked stopped and unregistered (so nothing can spawn under it or reach it), then, deepest
   * first, each one's `afterStop` runs, its queued messages become dead letters, and its
   * watchers get their down messages.
   */
  stopCell(cell: Cell, reason: 'stopped' | 'crashed'): void {
    if (cell.status === 'stopped' || cell.parent === undefined) return;
    const preorder: Cell[] = [];
    const stack: Cell[] = [cell];
    for (let c = stack.pop(); c !== undefined; c = stack.pop()) {
      preorder.push(c);
      if (c.children !== undefined) for (const child of c.children.values()) stack.push(child);
    }
    for (const c of preorder) {
      c.markStopped();
      c.parent?.children?.delete(c.name);
      this.cells.delete(c.key);
    }
    // Reversed pre-order: every cell comes after all of its descendants.
    for (let i = preorder.length - 1; i >= 0; i--) {
      const c = preorder[i] as Cell;
      this.finishStop(c, c === cell ? reason : c.crashed ? 'crashed' : 'stopped');
    }
  }

  private finishStop(c: Cell, reason: DownReason): void {
    const leftovers = c.mailbox.takeAll();
    this.pendingMessages -= leftovers.length;
    c.callAfterStop(leftovers);
    for (const e of leftovers) this.deadLetter('stopped', c.ref, e.message, e.sender as AnyRef | undefined);
    this.monitors.targetStopped(c, reason);
    this.monitors.watcherStopped(c);
  }

  /** Engine: stops a cell's children (a restart does this). */
  stopChildren(cell: Cell): void {
    if (cell.children === undefined) return;
    for (const child of [...cell.children.values()]) this.stopCell(child, child.crashed ? 'crashed' : 'stopped');
  }

  /** Stops every actor, fails pending queries, detaches the router. Idempotent. */
  stop(): void {
    if (this.stopped) return;
    this.stopChildren(this.rootCell);
    this.stopped = true;
    this.queries.failWhere(
      () => true,
      (target) => new SystemStoppedError(`query to ${target.toString()} failed: system ${this.name} stopped`),
    );
    this.router = undefined;
  }

  // ---- query and monitors ----------------------------------------------------------------

  query<R>(ref: AnyRef, msg: unknown, timeoutMs: number): Promise<R> {
    if (!timeoutMs) throw new ActorConfigError('a query needs a timeout (ms > 0)');
    checkDurationMs('query timeout', timeoutMs);
    if (this.stopped) return Promise.reject(new SystemStoppedError(`system ${this.name} is stopped`));
    const { tempRef, id, promise } = this.queries.open(ref, timeoutMs);
    try {
      const message = typeof msg === 'function' ? (msg as (temp: AnyRef) => unknown)(tempRef) : msg;
      this.send(ref, message, tempRef);
    } catch (err) {
      this.queries.fail(id, err instanceof Error ? err : new Error(String(err)));
    }
    return promise as Promise<R>;
  }

  monitor(watcher: AnyRef, target: AnyRef): number {
    return this.monitors.monitor(watcher, target);
  }

  demonitor(monitorId: number): boolean {
    return this.monitors.demonitor(monitorId);
  }

  // ---- the remoting seam -----------------------------------------------------------------

  /** Routes sends to other nodes through `router` (replacing any router attached before). */
  attachRemote(router: RemoteRouter): void {
    if (this.stopped) throw new SystemStoppedError(`system ${this.name} is stopped`);
    this.router = router;
  }

  detachRemote(router?: RemoteRouter): void {
    if (router === undefined || this.router === router) this.router = undefined;
  }

  /** A ref bound to this system (from JSON, a wire decoder, another system's ref). */
  refFromJSON<M = unknown>(json: unknown): ActorRef<M> {
    return refFromJSON<M>(this, json);
  }

  private bind(ref: AnyRef): AnyRef {
    if (!(ref instanceof ActorRef)) throw new InvalidRefError('deliver: not an ActorRef');
    return ref.system === this ? ref : refFromJSON(this, ref);
  }

  /** Router inbound: a message from another node for an actor (or temp ref) of this node. */
  deliver(to: AnyRef, msg: unknown, sender?: AnyRef): void {
    const target = this.bind(to);
    const from = sender === undefined ? undefined : this.bind(sender);
    if (target.node !== this.name) {
      this.deadLetter('no-route', target, msg, from);
      return;
    }
    if (isDownMessage(msg)) this.monitors.remoteDown(msg.monitorId, msg.ref.node);
    this.send(target, msg, from);
  }

  /**
   * Router inbound: a message this system handed to the router (`send`) could not be delivered
   * after all (its node is unknown or gone). Recorded as a `no-route` dead letter; a query it
   * belonged to fails at once.
   */
  undeliverable(to: AnyRef, msg: unknown, sender?: AnyRef): void {
    this.deadLetter('no-route', this.bind(to), msg, sender === undefined ? undefined : this.bind(sender));
  }

  /** Router inbound: `watcher` (on another node) monitors `target` (here). */
  remoteMonitor(watcher: AnyRef, target: AnyRef, monitorId: number): void {
    this.monitors.remoteMonitor(this.bind(watcher), this.bind(target), monitorId);
  }

  /** Router inbound: `watcher` (on another node) cancelled its monitor on `target`. */
  remoteDemonitor(watcher: AnyRef, _target: AnyRef, monitorId: number): void {
    this.monitors.remoteDemonitor(this.bind(watcher), monitorId);
  }

  /** Router inbound: `node` is unreachable. Its monitors fire `node-down`; queries to it fail. */
  nodeDown(node: string): void {
    if (node === this.name) return;
    this.monitors.nodeDown(node);
    this.queries.failWhere(
      (target) => target.node === node,
      (target) => new NodeDownError(target.toString(), node),
    );
  }
}

