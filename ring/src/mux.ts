/**
 * The request multiplexer of the quorum path: many vnode commands to one node travel in one
 * actor message, and their replies come back batched the same way.
 *
 * Why: a quorum write costs about five messages across the cluster (forward to the coordinator,
 * a delta to each other replica, their acknowledgements, the answer) and a read three requests
 * and three answers. Sent one by one, each is a `query` — a temporary ref, a timer, a promise, a
 * message envelope, a second hop from the host to the vnode — and under load that per-message
 * work (and the garbage it leaves) was most of a write's CPU. Batched per destination and event
 * loop turn, the fixed cost is paid once per batch.
 *
 * Sending side (`HostMux.send`): a command is queued for its node with a random request id (≥ 1)
 * and a pending entry (`HostMux.post`: id 0, no entry, no answer); at the end of the turn
 * (`clock.defer`) each node's queue leaves as
 * `{ t: 'cmds', items: [[rid, p, cmd], …] }` (messages.ts) to that node's vnode host, with this
 * node's reply actor (`ring-replies`, `muxActor`) as the sender. A batch is cut at
 * `muxBatchItemsMax` items or `muxBatchBytesMax` estimated bytes; a command alone over the byte
 * bound goes in a batch of its own (it would have been one message anyway).
 *
 * Receiving side (host.ts, `ReplyBatcher`): each item is routed to its vnode as a single command
 * would be; every reply joins a per-asker buffer that leaves at the end of the turn as
 * `{ t: 'replies', items: [[rid, reply], …] }`. Replies never wait for each other beyond the
 * turn in which they are made: a slow write in a batch does not hold back a fast read.
 *
 * How a call ends, exactly once (the errors `query` fails with, so callers map them alike):
 * - its reply arrives (a reply whose id is not pending — late, or meant for a previous life of
 *   this node — is dropped);
 * - its timeout passes: `QueryTimeoutError` (timeouts are rounded up to `timeoutStepMs` so a
 *   batch needs one timer, not one per command);
 * - the destination's host is down: this node monitors each destination's host while calls to
 *   it are outstanding (actors `monitor`), and a down notice (node down or unreachable, host
 *   stopped or absent) fails its pending calls at once with `NodeDownError`;
 * - the transport refuses the batch (outbound queue full, no route): its error, at once;
 * - more than `muxPendingMax` calls are outstanding: refused at once (memory bound).
 * A batch that reached a node whose host could not take it (mailbox full) is not reported back:
 * its calls end by timeout.
 */
import { dispatch, isDownMessage, monitor, NodeDownError, QueryTimeoutError, refFromJSON, type ActorContext, type ActorRef } from '@shoal/actors';
import type { Clock, Random, Timer } from '@shoal/runtime';
import { muxBatchBytesMax } from './limits.js';
import { hostPath, type HostMessage, type VnodeCommand } from './messages.js';
import { TurnBatches } from './turn-batches.js';

export { muxBatchBytesMax, muxBatchItemsMax } from './limits.js';
/** Calls outstanding at once on one node at most. */
export const muxPendingMax = 100_000;
/** Timeouts are rounded up to a multiple of this (one timer per batch and step). */
export const timeoutStepMs = 10;

/** The kinds of command that travel batched (the quorum path); others use `askHost`. */
export const muxCommands: ReadonlySet<VnodeCommand['c']> = new Set(['get', 'merge', 'write']);

/** Messages of the reply actor: batched replies, or a monitor's down notice. */
export type MuxMessage = { readonly t: 'replies'; readonly items: readonly (readonly [number, unknown])[] } | { readonly type: 'shoal.down' };

/** One batched command: [request id, partition, command]. */
export type MuxItem = readonly [number, number, VnodeCommand];

export class MuxRefusedError extends Error {
  override name = 'MuxRefusedError';
}

/** How a call ends: an error, or the reply. */
export type Done = (err: Error | undefined, reply?: unknown) => void;

interface Pending {
  readonly rid: number;
  readonly node: string;
  readonly done: Done;
  settled: boolean;
  group: Group | undefined;
}

/** The calls of one batch with the same (rounded) timeout: one timer, cancelled once all ended. */
interface Group {
  readonly entries: Pending[];
  open: number;
  timer: Timer | undefined;
}

interface Outbox {
  readonly items: MuxItem[];
  bytes: number;
  /** The open batch's calls, by rounded timeout. */
  readonly byTimeout: Map<number, Group>;
}

const newOutbox = (): Outbox => ({ items: [], bytes: 0, byTimeout: new Map() });

/** `estimateBytes`'s stack, reused (one estimate per call sent; the walk calls nothing that could re-enter). */
const scratch: unknown[] = [];

/**
 * Rough encoded size of a command: its strings and byte payloads, plus an allowance per value.
 * Bounded work: stops counting once past `muxBatchBytesMax` (the item then goes alone).
 */
export function estimateBytes(value: unknown, budget: number = muxBatchBytesMax + 1): number {
  let bytes = 0;
  const stack = scratch;
  stack.push(value);
  try {
    // Every value pushed is counted at once (at least a byte), so the pushes stop with the budget.
    while (stack.length > 0 && bytes < budget) {
      const v = stack.pop();
      if (typeof v === 'string') bytes += v.length * 3 + 4;
      else if (v instanceof Uint8Array) bytes += v.byteLength + 4;
      else if (Array.isArray(v)) {
        bytes += 4;
        for (let i = 0; i < v.length && bytes < budget; i++) {
          bytes++;
          stack.push(v[i]);
        }
      } else if (typeof v === 'object' && v !== null) {
        bytes += 4;
        for (const k in v) {
          if (bytes >= budget) break;
          bytes += k.length * 3 + 6;
          stack.push((v as Record<string, unknown>)[k]);
        }
      } else bytes += 8;
    }
  } finally {
    stack.length = 0; // what the budget left unvisited (or a getter's throw)
  }
  return bytes;
}

export interface HostMuxDeps {
  readonly self: string;
  readonly clock: Clock;
  readonly random: Random;
  /** Any ref of this node's system (to bind host refs). */
  readonly root: ActorRef<unknown>;
}

export class HostMux {
  private readonly pending = new Map<number, Pending>();
  /** The open batch of commands per destination node (turn-batches.ts). */
  private readonly outboxes: TurnBatches<Outbox, undefined>;
  /** Destinations whose host this node monitors (until a down notice arrives). */
  private readonly watched = new Set<string>();
  private replyRef: ActorRef<MuxMessage> | undefined;
  readonly stats = { calls: 0, posts: 0, batchesOut: 0, repliesIn: 0, stale: 0, timeouts: 0, down: 0, refused: 0 };

  constructor(private readonly deps: HostMuxDeps) {
    this.outboxes = new TurnBatches<Outbox, undefined>(deps.clock, newOutbox, (node, box) => this.sendBatch(node, box));
  }

  /** Binds the reply actor (service.ts spawns it); calls before this are refused. */
  bind(replyRef: ActorRef<MuxMessage>): void {
    this.replyRef = replyRef;
  }

  get outstanding(): number {
    return this.pending.size;
  }

  /** Sends `cmd` for partition `p` to `node`'s host; `done(error)` or `done(undefined, reply)`, exactly once, never synchronously (module header). */
  send(node: string, p: number, cmd: VnodeCommand, timeoutMs: number, done: Done): void {
    if (this.replyRef === undefined || this.pending.size >= muxPendingMax) {
      if (this.replyRef !== undefined) this.stats.refused++;
      const err = new MuxRefusedError(this.replyRef === undefined ? 'the ring service is not running' : `${muxPendingMax} requests are already outstanding on ${this.deps.self}`);
      this.deps.clock.defer(() => done(err));
      return;
    }
    this.stats.calls++;
    let rid = 1 + this.deps.random.int(2 ** 48 - 1); // 0 is a post's
    while (this.pending.has(rid)) rid = 1 + this.deps.random.int(2 ** 48 - 1);
    const entry: Pending = { rid, node, done, settled: false, group: undefined };
    this.pending.set(rid, entry);
    this.enqueue(entry, [rid, p, cmd], Math.ceil(timeoutMs / timeoutStepMs) * timeoutStepMs);
  }

  /**
   * Sends `cmd` with no answer wanted: request id 0, which the host runs and does not answer
   * (host.ts `routeMany`). For a replication delta beyond the write's quorum — a replica that
   * misses it is repaired later by read repair or anti-entropy, as one that missed an answered
   * delta would be. Nothing is reported: a refusal by the transport is dropped with the batch.
   */
  post(node: string, p: number, cmd: VnodeCommand): void {
    if (this.replyRef === undefined) return;
    this.stats.posts++;
    this.outboxes.room(node, estimateBytes(cmd) + 24, undefined).items.push([0, p, cmd]);
  }

  private enqueue(entry: Pending, item: MuxItem, timeoutMs: number): void {
    const box = this.outboxes.room(entry.node, estimateBytes(item[2]) + 24, undefined);
    box.items.push(item);
    let group = box.byTimeout.get(timeoutMs);
    if (!group) box.byTimeout.set(timeoutMs, (group = { entries: [], open: 0, timer: undefined }));
    group.entries.push(entry);
    group.open++;
    entry.group = group;
  }

  private sendBatch(node: string, box: Outbox): void {
    const host = refFromJSON<HostMessage>(this.deps.root, { node, path: [...hostPath] });
    for (const [timeoutMs, group] of box.byTimeout) {
      if (group.open > 0) group.timer = this.deps.clock.setTimer(timeoutMs, () => this.expire(group.entries, host, timeoutMs));
    }
    try {
      if (!this.watched.has(node)) {
        monitor(this.replyRef!, host);
        this.watched.add(node);
      }
      dispatch(host, { t: 'cmds', items: box.items } as HostMessage, this.replyRef);
      this.stats.batchesOut++;
    } catch (err) {
      const error = err instanceof Error ? err : new Error(String(err));
      for (const group of box.byTimeout.values()) for (const e of group.entries) this.settle(e, undefined, error);
    }
  }

  private expire(group: readonly Pending[], host: ActorRef<unknown>, timeoutMs: number): void {
    for (const e of group) {
      if (e.settled) continue;
      this.stats.timeouts++;
      this.settle(e, undefined, new QueryTimeoutError(host.toString(), timeoutMs));
    }
  }

  private settle(e: Pending, reply: unknown, err?: Error): void {
    if (e.settled) return;
    e.settled = true;
    const g = e.group;
    if (g !== undefined && --g.open === 0) g.timer?.cancel();
    this.pending.delete(e.rid);
    e.done(err, reply);
  }

  /** The reply actor's input: batched replies, or a down notice for a destination's host. */
  receive(msg: unknown): void {
    if (isDownMessage(msg)) return this.down(msg.ref.node, msg.reason);
    const m = msg as Partial<Extract<MuxMessage, { t: 'replies' }>>;
    // Ignored: anything but a reply batch (a peer's bug or a stray message; nothing to answer).
    if (typeof m !== 'object' || m === null || m.t !== 'replies' || !Array.isArray(m.items)) return;
    for (const item of m.items) {
      if (!Array.isArray(item) || typeof item[0] !== 'number') continue;
      const e = this.pending.get(item[0]);
      if (e === undefined) {
        this.stats.stale++;
        continue;
      }
      this.stats.repliesIn++;
      this.settle(e, item[1]);
    }
  }

  private down(node: string, reason: string): void {
    this.watched.delete(node);
    // A rare event: a scan of what is outstanding costs less than indexing every call by node.
    for (const e of [...this.pending.values()]) {
      if (e.node !== node) continue;
      this.stats.down++;
      this.settle(e, undefined, new NodeDownError(`${hostPath.join('/')} on ${node} (${reason})`, node));
    }
  }

  /** Fails every outstanding call (the service stops). */
  stop(): void {
    this.replyRef = undefined;
    this.outboxes.clear();
    for (const e of [...this.pending.values()]) this.settle(e, undefined, new MuxRefusedError('the ring service stopped'));
  }
}

/** The behaviour of the reply actor (`ring-replies`): hands everything to the mux. */
export function muxActor(mux: HostMux): (state: undefined, msg: MuxMessage, ctx: ActorContext<MuxMessage>) => undefined {
  return (_state, msg) => {
    mux.receive(msg);
    return undefined;
  };
}
