/**
 * Quorum operations: the coordinator of each request, as functions over the node's request
 * multiplexer (mux.ts: one pending call per replica, batched with the other calls of the same
 * turn to the same node; no actor per request is needed because nothing here holds state between
 * messages beyond the promise that collects the answers).
 *
 * get(bucket, key, { r, timeoutMs }): asks entries of the route (routing.ts: up primaries,
 * fallbacks, and old holders while the partition moves) — R of them first, this node's own
 * replica among them when it has one (read straight from its vnode, no message), more only on a
 * failure, an answer that does not count, or after the hedge delay (read-round.ts) — and answers
 * with the merge of all the answers it has once R of them *count* (not a new owner still
 * receiving its copy; an "absent" from an old holder that already handed off never counts). It
 * keeps listening until every replica it asked answered or timed out, merges everything, and
 * sends the merged record to each asked primary whose answer differed (read repair).
 *
 * update / delete: sent to the coordinating vnode (the first counting entry: a complete up
 * primary when there is one; run at once when it is on this node), which applies the
 * operations to its local record, persists, and calls `replicate` (below) with the delta; the
 * answer comes after W acknowledgements, its own included. A delete is a tombstone through the
 * same path. One coordinator per key keeps a client's writes through different nodes in order.
 *
 * The asker's copy: when the node asking is itself a counting replica of the key (always, on a
 * cluster of N nodes), it names itself as the write's `origin`; the coordinator then posts it the
 * delta at once (unanswered: its copy commits beside the coordinator's, not after it) and
 * answers — once its own copy is durable and W − 2 others acknowledged — with the delta, which
 * the origin merges into its own vnode as the W-th copy (`carry`: usually already merged by the
 * post, so it only waits for that copy to be durable). A forwarded write then costs the forward,
 * that answer and two posted merges, instead of the forward, two merges, two acknowledgements
 * and the answer. Should the origin's vnode refuse, the origin asks the other replicas for the
 * missing acknowledgements.
 *
 * Failures, one sentence each (errors.ts): NoQuorumError when fewer than R (W) replicas are up,
 * or too many refused or were unreachable; QuorumTimeoutError when the quorum did not answer in
 * time. A write that fails either way may still have been applied on some replicas (it was
 * not acknowledged, so nothing was promised); retrying an update that is not idempotent (a
 * counter increment) may apply it twice.
 */
import { NodeDownError, QueryTimeoutError, refFromJSON, UndeliverableError, type ActorRef } from '@shoal/actors';
import { record, type EntityRecord, type FieldOps, type Fields, type RecordPlain } from '@shoal/crdt';
import type { BucketRegistry, BucketSpec } from './buckets.js';
import type { RingConfig } from './config.js';
import { DeletedError, InvalidOperationError, NoQuorumError, NoRingError, QuorumTimeoutError, RingError, UnknownBucketError } from './errors.js';
import type { Clock } from '@shoal/runtime';
import { keyPartition } from './keys.js';
import { copyPlain, NotPlainError } from './plain-copy.js';
import type { ReplicateRequest } from './kv-vnode.js';
import { hostPath, type Ack, type Failure, type HostMessage, type ReadReply, type VnodeCommand, type WriteOp, type WriteReply } from './messages.js';
import type { HostMux } from './mux.js';
import { Hedges, ReadRound, readPlan, type Outcome, type RoundAsker } from './read-round.js';
import { coordinatorOf, effectiveQuorum, type Route, type RouteEntry } from './routing.js';
import type { RingView } from './view.js';

export interface RequestOptions {
  /** Time the whole request may take, ms (default: the ring config's requestTimeoutMs). */
  readonly timeoutMs?: number;
}

export interface GetOptions extends RequestOptions {
  /** Answers to wait for (default: the bucket's R). */
  readonly r?: number;
}

export interface WriteOptions extends RequestOptions {
  /** Acknowledgements to wait for, the coordinator's included (default: the bucket's W). */
  readonly w?: number;
}

export interface GetResult<F extends Fields = Fields> {
  /** The record exists and is not deleted. */
  readonly found: boolean;
  /** A tombstone was read (found is false). */
  readonly deleted: boolean;
  /** The record's plain value (`toPlain`) when found. */
  readonly value: RecordPlain<F> | undefined;
  /** The merged record (a tombstone when deleted), for callers that need the CRDT itself. */
  readonly record: EntityRecord<F> | undefined;
  /** Answers that counted towards R. */
  readonly answers: number;
}

export interface WriteResult {
  /** Acknowledgements received (≥ W), the coordinator's included. */
  readonly acks: number;
}

export interface CoordinatorDeps {
  readonly self: string;
  readonly clock: Clock;
  readonly root: ActorRef<unknown>;
  readonly view: RingView;
  readonly buckets: BucketRegistry;
  readonly config: RingConfig;
  /** Batches the quorum path's commands per node (mux.ts). */
  readonly mux: HostMux;
}

/** The named error for a failure reply. */
export function errorOf(f: Failure): RingError {
  switch (f.code) {
    case 'no-quorum':
      return new NoQuorumError(f.message);
    case 'timeout':
      return new QuorumTimeoutError(f.message);
    case 'deleted':
      return new DeletedError(f.message);
    case 'invalid-operation':
      return new InvalidOperationError(f.message);
    case 'unknown-bucket':
      return new UnknownBucketError(f.message);
    default:
      return new RingError(f.code, f.message);
  }
}

/** A reply as an outcome: the reply, or the replica's refusal. */
function outcomeOf<R extends { ok: boolean }>(node: string, r: R): Outcome<R> {
  if (typeof r !== 'object' || r === null) return { ok: false, code: 'no-quorum', why: `${node} answered something that is not a reply` };
  if (r.ok) return { ok: true, reply: r };
  const f = r as unknown as Failure;
  return { ok: false, code: f.code, why: f.message };
}

/** A call's failure as a value: timeout or unreachable (a replica's own refusal: `outcomeOf`). */
function failureOutcome(node: string, err: Error, timeoutMs: number): Outcome<never> {
  if (err instanceof QueryTimeoutError) return { ok: false, code: 'timeout', why: `${node} did not answer in ${timeoutMs} ms` };
  if (err instanceof NodeDownError || err instanceof UndeliverableError) return { ok: false, code: 'no-quorum', why: `${node} is unreachable` };
  return { ok: false, code: 'no-quorum', why: `${node}: ${err.message}` };
}

/** A call whose failure is a value (timeout, unreachable, or the replica's own refusal), handed to `then`: no promise per replica. */
function askThen<R extends { ok: boolean }>(mux: HostMux, node: string, p: number, cmd: VnodeCommand, timeoutMs: number, then: (o: Outcome<R>) => void): void {
  mux.send(node, p, cmd, timeoutMs, (err, reply) => then(err ? failureOutcome(node, err, timeoutMs) : outcomeOf(node, reply as R)));
}

/** A merge of `bytes` for one route entry (a fallback's names the owner it stands for). */
function mergeFor(e: RouteEntry, bucket: string, key: string, bytes: Uint8Array, deadline: number): Extract<VnodeCommand, { c: 'merge' }> {
  const cmd: Extract<VnodeCommand, { c: 'merge' }> = { c: 'merge', bucket, key, bytes, deadline };
  if (e.role === 'fallback') (cmd as { standsFor?: string }).standsFor = e.standsFor;
  return cmd;
}

/** How a gathering of acknowledgements ended. */
interface Gathered {
  readonly acks: number;
  readonly whys: readonly string[];
  readonly timedOut: boolean;
}

/**
 * Asks each of `entries` to merge `bytes` and calls `done` once `needed` acknowledged or every
 * one answered or failed. With `needed` ≤ 0 nobody is waited for: the merges are posted
 * (mux.ts `post`, no answer) and `done` runs at once. Callbacks, not a promise per replica:
 * this runs once per write.
 */
function gatherAcks(mux: HostMux, entries: readonly RouteEntry[], p: number, bucket: string, key: string, bytes: Uint8Array, deadline: number, timeoutMs: number, needed: number, done: (g: Gathered) => void): void {
  if (needed <= 0) {
    for (const e of entries) mux.post(e.node, p, mergeFor(e, bucket, key, bytes, deadline));
    return done({ acks: 0, whys: [], timedOut: false });
  }
  let acks = 0;
  let settled = 0;
  let ended = false;
  let timedOut = false;
  const whys: string[] = [];
  const check = (): void => {
    if (ended || (acks < needed && settled < entries.length)) return;
    ended = true;
    done({ acks, whys, timedOut });
  };
  for (const e of entries) {
    askThen<Extract<Ack, { ok: true }>>(mux, e.node, p, mergeFor(e, bucket, key, bytes, deadline), timeoutMs, (o) => {
      settled++;
      if (o.ok) acks++;
      else {
        whys.push(o.why);
        timedOut ||= o.code === 'timeout';
      }
      check();
    });
  }
  check();
}

/** The failure of a write that gathered too few acknowledgements. */
function shortOf(bucket: string, key: string, have: number, needed: number, g: Gathered): Failure {
  const message = `write of ${bucket}/${key}: ${have} of the ${needed} replicas needed answered${g.whys.length > 0 ? ` (${g.whys.join('; ')})` : ''}`;
  return { ok: false, code: g.timedOut ? 'timeout' : 'no-quorum', message: `${g.timedOut ? 'timeout' : 'no quorum'}: ${message}; the write may still be applied` };
}

type OkRead = Extract<ReadReply, { ok: true }>;

/** Decodes a read's answers: each distinct one once. */
interface Answers {
  /** The record of the answered bytes, undefined if they are none. */
  recordOf(bytes: Uint8Array): EntityRecord | undefined;
}

interface ReadDeps {
  readonly self: string;
  readonly mux: HostMux;
  readLocal(p: number, bucket: string, key: string): ReadReply | undefined;
  repair(route: Route, bucket: string, key: string, outcomes: readonly (Outcome<OkRead> | undefined)[], answers: Answers): void;
}

/**
 * The merge of the records answered (null: absent). Replicas that agree answer the same bytes
 * (encodings are canonical), which `answers` decodes once into one object; merging is
 * idempotent, so the common case — all equal — merges nothing.
 */
function mergeAnswers(all: readonly (Uint8Array | null | undefined)[], answers: Answers): EntityRecord | undefined {
  let merged: EntityRecord | undefined;
  for (const bytes of all) {
    if (bytes == null) continue;
    const r = answers.recordOf(bytes);
    if (r === undefined || r === merged) continue;
    merged = merged ? record.merge(merged, r) : r;
  }
  return merged;
}

/**
 * One quorum read: the asker of its round (read-round.ts). Its fields are the read's whole
 * state — one object per read instead of an async frame and a closure per callback.
 */
class QuorumRead implements RoundAsker<OkRead>, Answers {
  readonly round: ReadRound<OkRead>;
  private cmd: VnodeCommand | undefined;
  /** The first answer decoded (every replica agrees in the common case: nothing else is kept). */
  private firstBytes: Uint8Array | undefined;
  private firstRecord: EntityRecord | undefined;
  /** Other distinct answers, decoded. */
  private others: [Uint8Array, EntityRecord][] | undefined;

  constructor(
    private readonly deps: ReadDeps,
    private readonly spec: BucketSpec,
    private readonly route: Route,
    private readonly bucket: string,
    private readonly key: string,
    private readonly timeoutMs: number,
    order: readonly number[],
    r: number,
  ) {
    this.round = new ReadRound<OkRead>(order, r, this);
  }

  countsIfOk(i: number): boolean {
    return this.route.entries[i]!.counts;
  }

  counts(reply: OkRead, i: number): boolean {
    const e = this.route.entries[i]!;
    return e.counts && !(reply.absent && e.role === 'leaving');
  }

  ask(i: number): void {
    const node = this.route.entries[i]!.node;
    // This node's own replica: read from its vnode at once, no message.
    const local = node === this.deps.self ? this.deps.readLocal(this.route.partition, this.bucket, this.key) : undefined;
    if (local?.ok) return this.round.settle(i, this.checked({ ok: true, reply: local }, node));
    this.cmd ??= { c: 'get', bucket: this.bucket, key: this.key };
    askThen<OkRead>(this.deps.mux, node, this.route.partition, this.cmd, this.timeoutMs, (o) => this.round.settle(i, this.checked(o, node)));
  }

  /**
   * An answer whose bytes are not a record of the bucket is the replica's damage (a vnode reads
   * without decoding: the decode happens once, here): a failure that does not count and is not
   * repaired, never an "absent" — as the vnode answers for a record that does not decode in
   * storage (kv-vnode.ts `damaged`).
   */
  private checked(o: Outcome<OkRead>, node: string): Outcome<OkRead> {
    if (!o.ok || o.reply.bytes === null || this.recordOf(o.reply.bytes) !== undefined) return o;
    return { ok: false, code: 'refused', why: `the record of ${this.bucket}/${this.key} on node ${node} is damaged (not a valid ${this.spec.schema.name} record)` };
  }

  recordOf(bytes: Uint8Array): EntityRecord | undefined {
    const first = this.firstBytes;
    if (first !== undefined && (first === bytes || Buffer.compare(first, bytes) === 0)) return this.firstRecord;
    if (this.others) for (const [b, r] of this.others) if (b === bytes || Buffer.compare(b, bytes) === 0) return r;
    const d = record.decode(this.spec.schema, bytes);
    if (!d.ok) return undefined;
    if (first === undefined) {
      this.firstBytes = bytes;
      this.firstRecord = d.value;
    } else (this.others ??= []).push([bytes, d.value]);
    return d.value;
  }

  what(): string {
    return `read of ${this.bucket}/${this.key}`;
  }

  allSettled(outcomes: readonly (Outcome<OkRead> | undefined)[]): void {
    this.deps.repair(this.route, this.bucket, this.key, outcomes, this);
  }
}

export class Coordinator {
  private readonly hedges: Hedges;
  /** This node's vnodes answering gets at once (host.ts `readLocal`), once the host runs. */
  private readLocal: ((p: number, bucket: string, key: string) => ReadReply | undefined) | undefined;
  /** This node's vnodes running a write at once (host.ts `commandLocal`). */
  private commandLocal: ((p: number, cmd: VnodeCommand) => Promise<unknown> | undefined) | undefined;

  /** What every read of this coordinator shares (one object, made once). */
  private readonly readDeps: ReadDeps;

  constructor(private readonly deps: CoordinatorDeps) {
    this.hedges = new Hedges(deps.clock, deps.config.readHedgeMs);
    this.readDeps = {
      self: deps.self,
      mux: deps.mux,
      readLocal: (p, bucket, key) => this.readLocal?.(p, bucket, key),
      repair: (route, bucket, key, outcomes, answers) => this.readRepair(route, bucket, key, outcomes, answers),
    };
  }

  /** Lets gets of this node's own replicas skip the mailbox (service.ts wires the host). */
  attachLocal(read: (p: number, bucket: string, key: string) => ReadReply | undefined, command: (p: number, cmd: VnodeCommand) => Promise<unknown> | undefined): void {
    this.readLocal = read;
    this.commandLocal = command;
  }

  /** Drops pending hedges (the service stops). */
  stop(): void {
    this.hedges.stop();
  }

  hostRef(node: string): ActorRef<HostMessage> {
    return refFromJSON<HostMessage>(this.deps.root, { node, path: [...hostPath] });
  }

  private locate(bucket: string, key: string, n: number): { spec: BucketSpec; route: Route } {
    const spec = this.deps.buckets.resolve(bucket);
    const ring = this.deps.view.ring;
    if (!ring) throw new NoRingError(`node ${this.deps.self} is not part of a cluster yet: start it with a new cluster or join it to one`);
    const p = keyPartition(ring, bucket, key);
    return { spec, route: this.deps.view.route(p, Math.min(n, spec.n))! };
  }

  /** Not `async` (one per read; see `write`): refusals before anything is asked are rejections. */
  get<F extends Fields = Fields>(bucket: string, key: string, opts: GetOptions = {}): Promise<GetResult<F>> {
    try {
      const { spec, route } = this.locate(bucket, key, Number.MAX_SAFE_INTEGER);
      const r = effectiveQuorum(opts.r ?? spec.r, route.replicas);
      const { order, counting } = readPlan(route, this.deps.self);
      if (counting < r) throw new NoQuorumError(`no quorum: ${counting} of the ${r} replicas a read of ${bucket}/${key} needs are up`);
      const read = new QuorumRead(this.readDeps, spec, route, bucket, key, opts.timeoutMs ?? this.deps.config.requestTimeoutMs, order, r);
      read.round.start();
      if (!read.round.isDone) this.hedges.add(read.round);
      return read.round.promise.then((res) => this.readResult<F>(res.replies, res.counted, read));
    } catch (err) {
      return Promise.reject(err as Error);
    }
  }

  private readResult<F extends Fields>(replies: readonly (OkRead | undefined)[], counted: number, answers: Answers): GetResult<F> {
    const merged = mergeAnswers(replies.map((x) => x?.bytes), answers);
    const deleted = merged !== undefined && record.isDeleted(merged);
    const value = merged && !deleted ? (record.toPlain(merged) as RecordPlain<F>) : undefined;
    return { found: value !== undefined, deleted, value, record: merged as EntityRecord<F> | undefined, answers: counted };
  }

  /** Sends the merge of every answer to each asked primary whose answer differed. */
  private readRepair(route: Route, bucket: string, key: string, outcomes: readonly (Outcome<Extract<ReadReply, { ok: true }>> | undefined)[], answers: Answers): void {
    // Only the replicas this read asked (read-round.ts). The common case: every one answered
    // the same record, so none differs from the merge.
    let first: Uint8Array | undefined;
    let same = true;
    for (const o of outcomes) {
      if (o === undefined) continue;
      const bytes = o.ok ? o.reply.bytes : null;
      if (bytes === null) same = false;
      else if (first === undefined) first = bytes;
      else if (bytes !== first && Buffer.compare(bytes, first) !== 0) same = false;
      if (!same) break;
    }
    if (same) return;
    const merged = mergeAnswers(outcomes.map((o) => (o?.ok ? o.reply.bytes : null)), answers);
    if (!merged) return;
    const bytes = record.encode(merged);
    outcomes.forEach((o, i) => {
      const e = route.entries[i]!;
      if (o === undefined || !o.ok || e.role !== 'primary') return;
      const had = o.reply.bytes;
      if (had !== null && Buffer.compare(had, bytes) === 0) return;
      this.deps.mux.post(e.node, route.partition, { c: 'merge', bucket, key, bytes, deadline: this.deps.clock.wallMs() + this.deps.config.requestTimeoutMs });
    });
  }

  update<F extends Fields>(bucket: string, key: string, ops: FieldOps<F>, opts: WriteOptions = {}): Promise<WriteResult> {
    let copy: Record<string, unknown>;
    try {
      // A copy: the caller's object may be changed or frozen after the call, and the transport may rewrite a message in place.
      copy = copyPlain(ops) as Record<string, unknown>;
    } catch (err) {
      return Promise.reject(new InvalidOperationError(`the operations on ${bucket}/${key} are not plain data${err instanceof NotPlainError ? `: ${err.message}` : ''}`));
    }
    return this.write(bucket, key, { kind: 'update', ops: copy }, opts);
  }

  delete(bucket: string, key: string, opts: WriteOptions = {}): Promise<WriteResult> {
    return this.write(bucket, key, { kind: 'delete' }, opts);
  }

  /**
   * Not an `async` function: one runs per write, and an async frame that awaits keeps all its
   * locals in a heap context (~1 KB per write in the store benchmark's allocation profile).
   * Failures before the command leaves are rejections, as from an async function.
   */
  private write(bucket: string, key: string, op: WriteOp, opts: WriteOptions): Promise<WriteResult> {
    try {
      const { spec, route } = this.locate(bucket, key, Number.MAX_SAFE_INTEGER);
      const w = effectiveQuorum(opts.w ?? spec.w, route.replicas);
      if (route.entries.length < w) throw new NoQuorumError(`no quorum: ${route.entries.length} of the ${w} replicas a write of ${bucket}/${key} needs are up`);
      const coordinator = coordinatorOf(route)!;
      const timeoutMs = opts.timeoutMs ?? this.deps.config.requestTimeoutMs;
      const cmd: Extract<VnodeCommand, { c: 'write' }> = { c: 'write', bucket, key, op, w, n: spec.n, timeoutMs, deadline: this.deps.clock.wallMs() + timeoutMs };
      if (coordinator.role === 'fallback') (cmd as { standsFor?: string }).standsFor = coordinator.standsFor;
      const result = (o: Outcome<Extract<WriteReply, { ok: true }>>): WriteResult => {
        if (!o.ok) throw o.code === 'timeout' ? new QuorumTimeoutError(`timeout: the write of ${bucket}/${key} was not acknowledged in time (${o.why}); it may still be applied`) : errorOf({ ok: false, code: o.code, message: o.why });
        return { acks: o.reply.acks };
      };
      // This node coordinating: straight to its vnode. No timer: the replication's calls are
      // bounded by the deadline, and the local part is one LMDB commit.
      const local = coordinator.node === this.deps.self ? this.commandLocal?.(route.partition, cmd) : undefined;
      if (local) return local.then((r) => result(outcomeOf(coordinator.node, r as Extract<WriteReply, { ok: true }>)));
      // This node a replica too (it counts, and its vnode can take the delta at once): it keeps
      // its own copy — the coordinator answers with the delta instead of sending it a merge, so
      // the write costs no merge command and no acknowledgement between the two (`replicate`).
      const mine = w >= 2 && this.commandLocal !== undefined ? route.entries.find((e) => e.node === this.deps.self && e.counts) : undefined;
      if (mine) (cmd as { origin?: string }).origin = this.deps.self;
      // The coordinating vnode answers within timeoutMs (its replication gives up then); the
      // margin lets its own answer (which says why) arrive before ours expires.
      return new Promise((resolve, reject) => {
        const end = (o: Outcome<Extract<WriteReply, { ok: true }>>): void => {
          try {
            resolve(result(o));
          } catch (err) {
            reject(err as Error);
          }
        };
        askThen<Extract<WriteReply, { ok: true }>>(this.deps.mux, coordinator.node, route.partition, cmd, timeoutMs + Math.min(1_000, timeoutMs / 4), (o) => {
          if (!o.ok || o.reply.delta === undefined || !mine) return end(o);
          const { acks, delta } = o.reply;
          if (!(delta instanceof Uint8Array) || !Number.isSafeInteger(acks)) return end({ ok: false, code: 'no-quorum', why: `${coordinator.node} answered something that is not a reply` });
          this.carry(route, mine, coordinator.node, bucket, key, delta, acks, w, cmd.deadline, (r) => end(outcomeOf(this.deps.self, r as Extract<WriteReply, { ok: true }>)));
        });
      });
    } catch (err) {
      return Promise.reject(err as Error);
    }
  }

  /**
   * The replication step of a coordinating vnode (kv-vnode.ts): the delta to the others, W acks
   * (its own copy counts once durable: kv-vnode.ts answers only then). When the write names its
   * `origin` and the origin is an entry of this route, the origin's copy is left to the origin
   * (the answer carries the delta; `write` below merges it there), so the origin gets no merge of
   * its own and counts as the second acknowledgement. Replicas beyond the quorum get the delta
   * posted, unanswered: nothing would wait for their acknowledgements.
   */
  replicate(req: ReplicateRequest): Promise<WriteReply> {
    const route = this.deps.view.route(req.partition, req.n);
    if (!route) return Promise.resolve({ ok: false, code: 'no-ring', message: 'no ring' });
    const self = this.deps.self;
    const origin = req.origin !== undefined && req.origin !== self ? route.entries.find((e) => e.node === req.origin) : undefined;
    const carrier = origin !== undefined;
    const others: RouteEntry[] = route.entries.filter((e) => e.node !== self && e !== origin);
    const w = effectiveQuorum(req.w, route.replicas);
    const needed = w - 1 - (carrier ? 1 : 0);
    const timeoutMs = Math.max(1, req.deadline - this.deps.clock.wallMs());
    // The origin's copy starts now, beside this vnode's own: the delta is posted to it at once.
    // The answer still carries it; the origin's merge of it (`carry`) then finds it merged and
    // waits only for that copy to be durable (kv-vnode.ts `mergeIn`). So a forwarded write waits
    // for two commits side by side, not one after the other. Should the post be lost or refused,
    // `carry`'s merge makes the copy itself, as before.
    if (origin) this.deps.mux.post(origin.node, req.partition, mergeFor(origin, req.bucket, req.key, req.delta, req.deadline));
    return new Promise((resolve) => {
      gatherAcks(this.deps.mux, others, req.partition, req.bucket, req.key, req.delta, req.deadline, timeoutMs, needed, (g) => {
        if (g.acks < needed) return resolve(shortOf(req.bucket, req.key, g.acks, needed, g));
        resolve(carrier ? { ok: true, acks: g.acks + 1, delta: req.delta } : { ok: true, acks: g.acks + 1 });
      });
    });
  }

  /**
   * The asker's copy, after the coordinator's answer carried the delta (`replicate`): merges it
   * into this node's own vnode — one more durable copy — and if that fails, or W is still short,
   * asks the route's other entries (not the coordinator) to merge it too; a replica that has it
   * already acknowledges at once (merging is idempotent).
   */
  private carry(route: Route, mine: RouteEntry, coordinator: string, bucket: string, key: string, delta: Uint8Array, acks: number, w: number, deadline: number, done: (r: WriteReply) => void): void {
    const rest = (have: number, why: string | undefined): void => {
      if (have >= w) return done({ ok: true, acks: have });
      const others = route.entries.filter((e) => e.node !== this.deps.self && e.node !== coordinator);
      const needed = w - have;
      gatherAcks(this.deps.mux, others, route.partition, bucket, key, delta, deadline, Math.max(1, deadline - this.deps.clock.wallMs()), needed, (g) => {
        if (g.acks >= needed) return done({ ok: true, acks: have + g.acks });
        done(shortOf(bucket, key, have + g.acks, w, why === undefined ? g : { ...g, whys: [why, ...g.whys] }));
      });
    };
    const local = this.commandLocal?.(route.partition, mergeFor(mine, bucket, key, delta, deadline));
    if (local === undefined) return rest(acks, `${this.deps.self}'s vnode of partition ${route.partition} is not ready`);
    local.then(
      (r) => {
        const f = r as Ack;
        rest(f.ok === true ? acks + 1 : acks, f.ok === true ? undefined : `${this.deps.self}: ${(f as Failure).message}`);
      },
      (err: unknown) => rest(acks, `${this.deps.self}: ${String(err)}`),
    );
  }
}
