/**
 * The vnode host (riak_core's vnode master): one actor per node, at `ring-vnodes`, that owns
 * the node's vnodes and the periodic work on them.
 *
 * - Routing: `{ t: 'cmd', p, cmd }` from any node is checked (`commandProblem`) and forwarded to
 *   the vnode of partition p with the original sender, so the vnode replies to the asker
 *   directly. A vnode is spawned for every partition this node owns and for every partition it
 *   holds data of (found at start); a write, merge or handoff for any other partition spawns one
 *   (this node is a fallback, or an old holder a stale coordinator still writes to: it keeps the
 *   data and hands it on). A read or fold for a partition it has no vnode of is answered "absent"
 *   without spawning one. A batch `{ t: 'cmds', items }` from a node's mux (mux.ts: quorum
 *   gets, merges and writes) is routed item by item the same way; each item's vnode replies
 *   through the host's `ReplyBatcher` (reply-batch.ts), which sends them back batched; an item
 *   with request id 0 (a post) is run and not answered.
 * - Handoff: on every tick, `planHandoffs` (handoff-plan.ts) over the vnodes' state; the tasks
 *   run as sessions inside their vnodes (vnode.ts); a finished session reports its transfers to
 *   the ring manager, and a vnode that dropped its data is stopped.
 * - Anti-entropy: on every tick each vnode builds a bounded slice of its hash tree, and one
 *   exchange runs (aae.ts) for the next partition this node owns, with a random other up owner.
 * - Reaping: on every tick, tombstones old enough and held by every owner are dropped
 *   (reaper.ts).
 */
import { dispatch, refFromJSON, spawn, stop, type ActorContext, type ActorRef } from '@shoal/actors';
import type { Logger, Random } from '@shoal/runtime';
import type { RingConfig } from './config.js';
import { planHandoffs, type HandoffTask, type LocalVnodeInfo } from './handoff-plan.js';
import { KvVnode, type KvVnodeEnv } from './kv-vnode.js';
import { handoffBatchItemsMax, reapBatchMax, reapKeysMax } from './limits.js';
import { askHost, commandProblem, failure, hostPath, withRid, type Ack, type HostMessage, type ManagerMessage, type ReadReply, type RecordItem, type VnodeCommand } from './messages.js';
import { runExchange } from './aae.js';
import { muxBatchItemsMax, muxCommands, type MuxMessage } from './mux.js';
import { ReplyBatcher } from './reply-batch.js';
import { reapPartition } from './reaper.js';
import { runSession, vnodeActor, type VnodeBehaviour, type VnodeMessage } from './vnode.js';
import { pendingTransfers, type Transfer, type TransferState } from './transfers.js';
import type { RingView } from './view.js';

export interface HostDeps {
  readonly view: RingView;
  readonly env: KvVnodeEnv;
  readonly config: RingConfig;
  readonly random: Random;
  readonly log: Logger;
  readonly manager: ActorRef<ManagerMessage>;
}

interface Entry {
  ref: ActorRef<VnodeMessage>;
  vn: KvVnode;
}

/** Commands that bring a vnode into being on a node that holds none for the partition. */
const spawning = new Set<VnodeCommand['c']>(['write', 'merge', 'handoff']);

/** The answer to a posted command (request id 0, mux.ts `post`): nobody waits for it. */
const unanswered = (): void => undefined;

/** What a node with no vnode for a partition answers. */
function absentReply(cmd: VnodeCommand): unknown {
  switch (cmd.c) {
    case 'get':
      return { ok: true, bytes: null, absent: true };
    case 'fold':
      return { ok: true, items: [], scannedTo: null };
    case 'aae-tree':
      return { ok: true, ready: false, segments: [] };
    case 'aae-keys':
      return { ok: true, keys: [] };
    case 'aae-fetch':
      return { ok: true, records: cmd.skeys.map((sk) => [sk, null]) };
    case 'reap-check':
      return { ok: true, held: [] };
    default:
      return { ok: true };
  }
}

/** The size of a handoff batch as its byte limit counts it: encoded records, bucket and key. */
function handoffBytesOf(items: readonly RecordItem[]): number {
  let bytes = 0;
  for (const [bucket, key, value] of items) bytes += value.byteLength + bucket.length + key.length;
  return bytes;
}

/** A session, as the host tracks it. */
interface Running {
  readonly task: HandoffTask;
  readonly version: number;
  readonly hash: string;
}

export class VnodeHost {
  private readonly vnodes = new Map<number, Entry>();
  private readonly sessions = new Map<number, Running>();
  private waiting: readonly { readonly partition: number; readonly reason: string }[] = [];
  private exchanging = false;
  private reaping = false;
  private aaeNext = 0;
  private self: ActorRef<HostMessage> | undefined;
  /**
   * Transfers a finished session reported done to the manager, by partition, until the view's
   * transfer state shows them done (or moves to another ring): planning skips those partitions,
   * so a plan made before the manager applied the report does not send the partition again.
   */
  private readonly reported = new Map<number, { version: number; hash: string; transfers: readonly Transfer[] }>();
  /**
   * Counters for status, tests and the store benchmark. `handoffRecordsSent` and
   * `handoffBytesSent` count what targets acknowledged (once per target; bytes are the encoded
   * records plus bucket and key, as the batch limit counts them).
   */
  readonly stats = { sessionsStarted: 0, sessionsFailed: 0, sessionsDone: 0, sessionsResumed: 0, batchesSent: 0, handoffRecordsSent: 0, handoffBytesSent: 0, dropped: 0, exchanges: 0, aaeRepairs: 0, reaped: 0 };

  /** Replies to batched commands, per asker (reply-batch.ts). */
  private readonly replies: ReplyBatcher;

  /** Reply batches sent, and replies dropped because the transport refused them. */
  get replyStats(): Readonly<ReplyBatcher['stats']> {
    return this.replies.stats;
  }

  constructor(private readonly deps: HostDeps) {
    this.replies = new ReplyBatcher(deps.env.clock, deps.log, () => this.self);
  }

  /** Forgets every vnode (the host actor restarted after a crash: its children were stopped). */
  reset(): VnodeHost {
    this.vnodes.clear();
    this.sessions.clear();
    this.reported.clear();
    this.exchanging = false;
    this.reaping = false;
    this.self = undefined;
    return this;
  }

  /** Binds the actor's ref and spawns the vnodes this node must run (owned, or holding data). */
  init(ctx: ActorContext<HostMessage>): void {
    this.self = ctx.self;
    const ring = this.deps.view.ring;
    if (!ring) return;
    const data = this.deps.env.data;
    for (let p = 0; p < ring.partitionCount; p++) {
      let holds = false;
      for (const _ of data.range({ start: [p], end: [p + 1], limit: 1 })) holds = true;
      if (holds || this.deps.view.owns(p)) this.ensure(p, ctx);
    }
  }

  private hostRef(node: string): ActorRef<HostMessage> {
    return refFromJSON<HostMessage>(this.self!, { node, path: [...hostPath] });
  }

  /**
   * This node's answer to a quorum get of partition `p`, read at once from its vnode when the
   * vnode is running and ready (kv-vnode.ts `readNow`); undefined when the get must go through
   * the mailbox (no vnode yet, still starting) — the caller then sends it as usual.
   */
  readLocal(p: number, bucket: string, key: string): ReadReply | undefined {
    const vn = this.vnodes.get(p)?.vn;
    return vn !== undefined && vn.isReady ? vn.readNow(bucket, key) : undefined;
  }

  /** Asks a node's host for a command's reply (used by sessions, exchanges and the reaper). */
  ask<R>(node: string, p: number, cmd: VnodeCommand, timeoutMs: number): Promise<R> {
    return askHost<R>(this.hostRef(node), p, cmd, timeoutMs, this.deps.random);
  }

  private ensure(p: number, ctx: ActorContext<HostMessage>): Entry {
    const existing = this.vnodes.get(p);
    if (existing) return existing;
    const entry = { vn: undefined as unknown as KvVnode, ref: undefined as unknown as ActorRef<VnodeMessage> };
    const behaviour = vnodeActor({ startSession: (vn, task) => this.startSession(vn, task) });
    entry.ref = spawn(ctx.self, behaviour, `p${p}`, {
      initialStateFunc: () => {
        // Runs at spawn and at every restart of a crashed vnode: a fresh view of storage.
        entry.vn = new KvVnode(p, this.deps.env);
        return entry.vn as VnodeBehaviour;
      },
    });
    this.vnodes.set(p, entry);
    return entry;
  }

  receive(msg: HostMessage, ctx: ActorContext<HostMessage>): void {
    if (this.self === undefined) this.init(ctx);
    switch (msg.t) {
      case 'cmd':
        return this.route(msg.p, msg.cmd, msg.rid, ctx);
      case 'cmds':
        return this.routeMany(msg.items, ctx);
      case 'tick-handoff':
        return this.tickHandoff();
      case 'tick-aae':
        return this.tickAae();
      case 'tick-reap':
        return this.tickReap();
      case 'ring-changed':
        return this.ensureOwned(ctx);
      case 'session-ended':
        return this.sessionEnded(msg.p, msg.ok, msg.error);
      case 'dropped':
        return this.dropped(msg.p, ctx);
      case 'exchange-ended':
        this.exchanging = false;
        return;
      case 'reap-ended':
        this.reaping = false;
        return;
    }
  }

  private route(p: number, cmd: VnodeCommand, rid: number, ctx: ActorContext<HostMessage>): void {
    const sender = ctx.sender;
    this.routeOne(p, cmd, (r) => dispatch(sender, withRid(r, rid), ctx.self), (ref) => dispatch(ref, { ...cmd, rid } as unknown as VnodeMessage, sender), ctx);
  }

  /** A batch of commands from a node's mux (mux.ts): each routed alone, replies batched back. */
  private routeMany(items: unknown, ctx: ActorContext<HostMessage>): void {
    const sender = ctx.sender as ActorRef<MuxMessage> | undefined;
    // Ignored: a batch nobody can be answered for, or not a batch (a peer's bug; logged).
    if (sender === undefined || !Array.isArray(items) || items.length > muxBatchItemsMax) {
      this.deps.log.warn('malformed command batch dropped', { from: sender?.node, items: Array.isArray(items) ? items.length : typeof items });
      return;
    }
    const sink = this.replies.sink(sender);
    for (const item of items as unknown[]) {
      if (!Array.isArray(item) || item.length !== 3 || !Number.isSafeInteger(item[0])) continue; // no id: nobody to answer
      const [rid, p, cmd] = item as [number, number, VnodeCommand];
      const reply = rid === 0 ? unanswered : (r: unknown): void => sink(rid, r); // id 0: a post (mux.ts), nobody waits
      if (typeof cmd !== 'object' || cmd === null || !muxCommands.has(cmd.c)) {
        reply(failure('invalid-operation', `a command batch may hold only ${[...muxCommands].join(', ')}`));
        continue;
      }
      this.routeOne(p, cmd, reply, (ref, vn) => (vn?.isReady ? this.runNow(vn, cmd, reply) : dispatch(ref, { ...cmd, via: reply } as unknown as VnodeMessage)), ctx);
    }
  }

  /** Checks a command and hands it to its vnode (`forward`), or answers it here (`reply`). */
  private routeOne(p: number, cmd: VnodeCommand, reply: (r: unknown) => void, forward: (vnode: ActorRef<VnodeMessage>, vn: KvVnode | undefined) => void, ctx: ActorContext<HostMessage>): void {
    const ring = this.deps.view.ring;
    if (!ring) return reply(failure('no-ring', `node ${this.deps.env.self} has no ring yet`));
    if (!Number.isInteger(p) || p < 0 || p >= ring.partitionCount) return reply(failure('invalid-key', `partition ${String(p)} is not in 0 … ${ring.partitionCount - 1}`));
    const problem = commandProblem(cmd, { itemsMax: handoffBatchItemsMax, keysMax: reapKeysMax * 4 });
    if (problem !== undefined) return reply(failure('invalid-operation', problem));
    let entry = this.vnodes.get(p);
    if (cmd.c === 'foreign-check') {
      const vn = entry?.vn;
      return reply({ ok: true, holds: !this.deps.view.owns(p) && vn !== undefined && (!vn.isReady || this.sessions.has(p) || !vn.isEmpty()) });
    }
    if (!entry) {
      if (!spawning.has(cmd.c) && !this.deps.view.owns(p)) return reply(absentReply(cmd));
      entry = this.ensure(p, ctx);
    }
    forward(entry.ref, entry.vn);
  }

  /**
   * Runs a quorum command on a ready vnode at once instead of through its mailbox: the vnode
   * handles one command synchronously either way (its durable and remote parts finish later
   * through promises), so this only saves a hop. A throw — a bug, `handleCommand` never throws
   * by contract — is answered and logged here rather than crashing the host.
   */
  private runNow(vn: KvVnode, cmd: VnodeCommand, reply: (r: unknown) => void): void {
    try {
      vn.handleCommand(cmd, reply);
    } catch (err) {
      this.deps.log.error('vnode command threw', { partition: vn.partition, command: cmd.c, err: String(err) });
      reply(failure('refused', `vnode ${vn.partition} on ${this.deps.env.self} failed: ${String(err)}`));
    }
  }

  /** A quorum command from this node's own coordinator, run at once on a ready vnode (`runNow`); undefined if it must be sent. */
  commandLocal(p: number, cmd: VnodeCommand): Promise<unknown> | undefined {
    const vn = this.vnodes.get(p)?.vn;
    if (vn === undefined || !vn.isReady || !this.deps.view.ring) return undefined;
    return new Promise((resolve) => this.runNow(vn, cmd, resolve));
  }

  private ensureOwned(ctx: ActorContext<HostMessage>): void {
    const ring = this.deps.view.ring;
    if (!ring) return;
    for (let p = 0; p < ring.partitionCount; p++) if (this.deps.view.owns(p)) this.ensure(p, ctx);
  }

  // ── handoff ──────────────────────────────────────────────────────────────

  private tickHandoff(): void {
    const { view, config } = this.deps;
    const ring = view.ring;
    const transfers = view.transfers;
    if (!ring) return;
    const infos: LocalVnodeInfo[] = [];
    const awaiting = this.awaitingManager(transfers);
    for (const [p, { vn }] of this.vnodes) {
      if (awaiting.has(p)) {
        infos.push({ partition: p, hasData: true, hints: [], busy: true });
        continue;
      }
      // A vnode still loading may hold data: never let the plan take it for empty (that would
      // mark its transfers done with nothing sent); it is busy until it is ready.
      if (!vn?.isReady) infos.push({ partition: p, hasData: true, hints: [], busy: true });
      else infos.push({ partition: p, hasData: vn.isActive && !vn.isEmpty(), hints: vn.hints(), busy: this.sessions.has(p) || !vn.isActive });
    }
    const plan = planHandoffs({ self: view.self, ring, transfers, vnodes: infos, isUp: view.isUp, running: this.sessions.size, concurrencyMax: config.handoffConcurrency });
    this.waiting = plan.waiting;
    if (plan.doneWithoutData.length > 0 && transfers) {
      dispatch(this.deps.manager, { t: 'transfers-done', version: transfers.version, hash: transfers.hash, transfers: plan.doneWithoutData });
    }
    // An interrupted session that no plan resumes (this node owns the partition again, say):
    // stop recording dirty keys for it.
    const planned = new Set([...plan.start.map((x) => x.partition), ...plan.waiting.map((w) => w.partition)]);
    for (const [p, { ref, vn }] of this.vnodes) {
      if (vn?.isReady && vn.isActive && vn.sessionTargets !== undefined && !this.sessions.has(p) && !planned.has(p)) dispatch(ref, { c: 'session-abandon' });
    }
    for (const task of plan.start) {
      const entry = this.vnodes.get(task.partition);
      if (!entry || !transfers) continue;
      this.sessions.set(task.partition, { task, version: transfers.version, hash: transfers.hash });
      this.stats.sessionsStarted++;
      dispatch(entry.ref, { c: 'session-start', task });
    }
  }

  /** Partitions whose reported transfers the view still shows pending (see `reported`). */
  private awaitingManager(transfers: TransferState | undefined): Set<number> {
    const out = new Set<number>();
    for (const [p, r] of this.reported) {
      const pending = transfers && transfers.version === r.version && transfers.hash === r.hash ? pendingTransfers(transfers) : [];
      if (r.transfers.some((t) => pending.some((x) => x.partition === t.partition && x.from === t.from && x.to === t.to))) out.add(p);
      else this.reported.delete(p);
    }
    return out;
  }

  /** Called by the vnode actor on its own turn: runs the session in the background. */
  private startSession(vn: VnodeBehaviour, task: HandoffTask): void {
    const p = vn.partition;
    const send = async (target: string, items: readonly RecordItem[]): Promise<void> => {
      const timeoutMs = this.deps.config.handoffBatchTimeoutMs;
      const r = await this.ask<Ack>(target, p, { c: 'handoff', items, deadline: this.deps.env.clock.wallMs() + timeoutMs }, timeoutMs);
      if (!r.ok) throw new Error(`${target} refused handoff of partition ${p}: ${r.message}`);
      this.stats.handoffRecordsSent += items.length;
      this.stats.handoffBytesSent += handoffBytesOf(items);
    };
    runSession(vn, task, send, this.deps.config.handoffBatchItems, () => task.drop && !this.deps.view.owns(p)).then(
      (report) => {
        if (report.resumed) this.stats.sessionsResumed++;
        this.stats.batchesSent += report.batches;
        dispatch(this.self!, { t: 'session-ended', p, task, ok: true });
      },
      (err: unknown) => dispatch(this.self!, { t: 'session-ended', p, task, ok: false, error: err instanceof Error ? err.message : String(err) }),
    );
  }

  private sessionEnded(p: number, ok: boolean, error: string | undefined): void {
    const running = this.sessions.get(p);
    this.sessions.delete(p);
    if (!running) return;
    if (!ok) {
      this.stats.sessionsFailed++;
      this.deps.log.info('handoff session failed; will retry', { partition: p, targets: running.task.targets, error });
      return;
    }
    this.stats.sessionsDone++;
    if (running.task.transfers.length > 0) {
      this.reported.set(p, { version: running.version, hash: running.hash, transfers: running.task.transfers });
      dispatch(this.deps.manager, { t: 'transfers-done', version: running.version, hash: running.hash, transfers: running.task.transfers });
    }
    if (running.task.drop) dispatch(this.self!, { t: 'dropped', p });
    // A finished session makes room: plan the next one now rather than at the next tick (with
    // `handoffConcurrency` sessions per tick, a node with many partitions to hand off would
    // otherwise spend most of a transfer waiting for ticks).
    dispatch(this.self!, { t: 'tick-handoff' });
  }

  private dropped(p: number, ctx: ActorContext<HostMessage>): void {
    const entry = this.vnodes.get(p);
    if (!entry?.vn?.isDropped) return;
    this.vnodes.delete(p);
    this.stats.dropped++;
    stop(entry.ref);
    if (this.deps.view.owns(p)) this.ensure(p, ctx);
  }

  // ── anti-entropy ─────────────────────────────────────────────────────────

  private tickAae(): void {
    for (const { ref, vn } of this.vnodes.values()) if (vn?.isReady && vn.wantsBackgroundStep) dispatch(ref, { c: 'build-tick' });
    if (this.exchanging) return;
    const { view, random, config } = this.deps;
    const ring = view.ring;
    if (!ring) return;
    for (let i = 0; i < ring.partitionCount; i++) {
      const p = (this.aaeNext + i) % ring.partitionCount;
      const vn = this.vnodes.get(p)?.vn;
      if (!vn?.treeIsReady || !view.owns(p)) continue;
      const peers = ring.owners[p]!.filter((n) => n !== view.self && view.isUp(n));
      if (peers.length === 0) continue;
      this.aaeNext = p + 1;
      const peer = peers[random.int(peers.length)]!;
      this.exchanging = true;
      const ask = <R>(node: string, cmd: VnodeCommand): Promise<R> => this.ask<R>(node, p, cmd, config.requestTimeoutMs);
      runExchange(ask, view.self, peer, config.aaeKeysPerExchange, () => this.deps.env.clock.wallMs() + config.requestTimeoutMs).then(
        (repaired) => {
          this.stats.exchanges++;
          this.stats.aaeRepairs += repaired;
          dispatch(this.self!, { t: 'exchange-ended' });
        },
        () => dispatch(this.self!, { t: 'exchange-ended' }),
      );
      return;
    }
  }

  // ── reaping ──────────────────────────────────────────────────────────────

  private tickReap(): void {
    if (this.reaping) return;
    const { view, config } = this.deps;
    const ring = view.ring;
    if (!ring) return;
    const partitions = [...this.vnodes.entries()].filter(([p, { vn }]) => vn?.treeIsReady && ring.owners[p]![0] === view.self && (view.transferIndex?.sources.get(p) ?? []).length === 0 && (view.transferIndex?.targets.get(p) ?? []).length === 0);
    if (partitions.length === 0) return;
    this.reaping = true;
    const beforeWallMs = this.deps.env.clock.wallMs() - config.tombstoneGraceMs;
    void (async () => {
      for (const [p, { vn }] of partitions) {
        const owners = ring.owners[p]!;
        const members = ring.members.map((m) => m.name);
        if (!members.every((n) => view.isUp(n))) continue;
        const ask = <R>(node: string, cmd: VnodeCommand): Promise<R> => this.ask<R>(node, p, cmd, config.requestTimeoutMs);
        // Other members and departed nodes that are up may hold fallback data (reaper.ts).
        const departed = (view.transfers?.departed ?? []).filter((n) => view.isUp(n));
        const others = [...members.filter((n) => !owners.includes(n)), ...departed];
        const reaped = await reapPartition(ask, owners, others, vn.oldTombstones(beforeWallMs, reapBatchMax)).catch(() => 0);
        if (reaped > 0) this.deps.log.info('reaped tombstones', { partition: p, reaped });
        this.stats.reaped += reaped;
      }
    })().finally(() => dispatch(this.self!, { t: 'reap-ended' }));
  }

  // ── status ───────────────────────────────────────────────────────────────

  /** What the vnodes count, summed: cheap (no storage read), for metrics at every scrape. */
  counts(): { readonly vnodes: number; readonly damagedRecordsSeen: number; readonly treeDrifts: number } {
    let damagedRecordsSeen = 0;
    let treeDrifts = 0;
    for (const { vn } of this.vnodes.values()) {
      damagedRecordsSeen += vn?.damagedSeen ?? 0;
      treeDrifts += vn?.treeDrifts ?? 0;
    }
    return { vnodes: this.vnodes.size, damagedRecordsSeen, treeDrifts };
  }

  status(): HostStatus {
    const vnodes = [...this.vnodes.entries()].sort(([a], [b]) => a - b);
    return {
      ...this.counts(),
      owned: vnodes.filter(([p]) => this.deps.view.owns(p)).map(([p]) => p),
      foreign: vnodes.filter(([p, { vn }]) => !this.deps.view.owns(p) && vn?.isReady && !vn.isEmpty()).map(([p]) => p),
      sessions: [...this.sessions.entries()].map(([p, r]) => ({ partition: p, kind: r.task.kind, targets: r.task.targets, drop: r.task.drop })),
      waiting: this.waiting,
      stats: { ...this.stats },
    };
  }

  /** The vnode object of a partition (tests and status only). */
  vnode(p: number): KvVnode | undefined {
    return this.vnodes.get(p)?.vn;
  }
}

export interface HostStatus {
  readonly vnodes: number;
  /** Partitions this node owns (with a vnode). */
  readonly owned: readonly number[];
  /** Partitions this node holds data of without owning them (fallback or leaving data). */
  readonly foreign: readonly number[];
  readonly sessions: readonly { readonly partition: number; readonly kind: string; readonly targets: readonly string[]; readonly drop: boolean }[];
  readonly waiting: readonly { readonly partition: number; readonly reason: string }[];
  readonly stats: VnodeHost['stats'];
  /** Damaged stored records the running vnodes met (kv-vnode.ts `damaged`; each logged). */
  readonly damagedRecordsSeen: number;
  /** Tree rebuilds of the running vnodes that found the tree had drifted from storage. */
  readonly treeDrifts: number;
}

/** The host's actor behaviour. */
export function hostActor(host: VnodeHost, msg: HostMessage, ctx: ActorContext<HostMessage>): VnodeHost {
  host.receive(msg, ctx);
  return host;
}
