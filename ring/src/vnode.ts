/**
 * The vnode behaviour and the actor that hosts it — riak_core's `riak_core_vnode` split the same
 * way: the framework owns the lifecycle (start, readiness, stop) and handoff (the session that
 * streams a partition to other nodes, resumable, then drops it); the application implements
 * typed callbacks: commands, the coverage fold (inside `handleCommand`), and the handoff
 * callbacks below. One vnode actor per partition this node owns or holds data of; the vnode
 * host (host.ts) spawns them and routes commands to them.
 *
 * A handoff session (`runSession`), for one vnode and a fixed set of targets:
 *   1. `handoffStarting(targets)` — the behaviour starts recording every write as *dirty*
 *      (persisted with the write itself) and returns where an interrupted session with the
 *      same targets stopped (progress is persisted after each acknowledged batch);
 *   2. stream: batches read in key order (`handoffBatch`), each sent to every target and
 *      acknowledged only once the target persisted it, until the end of the partition;
 *   3. catch up: wait until every write issued so far is durable, then resend the dirty keys
 *      (`takeDirty`, `clearDirty`), until a check finds none — in the same synchronous step as
 *      the check, `handoffFinished(drop)` makes the vnode refuse writes if it drops, so no
 *      write can slip in between the last check and the drop;
 *   4. `handoffFinished(drop)`: drop deletes the partition's data; else dirty tracking stops.
 * A write acknowledged by this vnode at any time before the drop is either in a batch sent
 * after it, or dirty and resent: nothing acknowledged here is dropped without reaching every
 * target. A crash anywhere leaves the persisted cursor and dirty marks; the next session with
 * the same targets resumes from them (merges are idempotent, so restarting from scratch would
 * be safe too, only slower).
 */
import { dispatch, type ActorContext } from '@shoal/actors';
import { withRid, type RecordItem, type VnodeCommand, type VnodeControl } from './messages.js';
import type { HandoffTask } from './handoff-plan.js';

/** Where a handoff stream stands: the last [bucket, key] sent, or null before the first. */
export type HandoffCursor = readonly [string, string];

/** A dirty key taken for resending, with the version it had (cleared only if unchanged). */
export interface DirtyMark {
  readonly skey: string;
  readonly version: number;
}

export interface VnodeBehaviour {
  readonly partition: number;
  /** Resolves when the vnode can take commands (e.g. its writer id is durable). */
  readonly ready: Promise<void>;
  readonly isReady: boolean;
  /** Handles a command; replies through `reply` (now or later). Never throws. */
  handleCommand(cmd: VnodeCommand, reply: (r: unknown) => void): void;
  /** A slice of background work (e.g. building the anti-entropy tree), bounded. */
  backgroundStep(): void;

  // handoff, sending side
  isEmpty(): boolean;
  hints(): readonly string[];
  handoffStarting(targets: readonly string[]): HandoffCursor | null;
  handoffBatch(after: HandoffCursor | null, itemsMax: number): { readonly items: RecordItem[]; readonly next: HandoffCursor | null };
  handoffProgress(cursor: HandoffCursor): void;
  dirtyCount(): number;
  takeDirty(itemsMax: number): { readonly items: RecordItem[]; readonly marks: DirtyMark[] };
  clearDirty(marks: readonly DirtyMark[]): Promise<void>;
  /** Resolves once every write issued so far is durable. */
  flushed(): Promise<void>;
  /** Ends the session; with `drop`, refuses writes from this call on and deletes the data. */
  handoffFinished(drop: boolean): Promise<void>;
  /** Forgets an interrupted session nobody will resume (the partition stays here). */
  handoffAbandoned(): Promise<void>;
  /** The targets of a session in progress or interrupted, if any. */
  readonly sessionTargets: readonly string[] | undefined;
}

/** How a session reaches its targets: resolves once `target` persisted `items`. */
export type SendBatch = (target: string, items: readonly RecordItem[]) => Promise<void>;

/** What a session did: whether it resumed an interrupted one, and the batches it streamed. */
export interface SessionReport {
  readonly resumed: boolean;
  readonly batches: number;
}

/** Resends of dirty keys before a session gives up (writes keep arriving faster than it sends). */
export const dirtyRoundsMax = 64;

export class HandoffError extends Error {
  override name = 'HandoffError';
}

/**
 * Runs one handoff session to completion (module header); rejects if a target fails. `dropNow`
 * decides at the end whether to drop (default: the task's `drop`): the ring may have changed
 * during the session and made this node an owner again.
 */
export async function runSession(vn: VnodeBehaviour, task: HandoffTask, send: SendBatch, batchItemsMax: number, dropNow: () => boolean = () => task.drop): Promise<SessionReport> {
  let cursor = vn.handoffStarting(task.targets);
  const report = { resumed: cursor !== null, batches: 0 };
  const toAll = (items: readonly RecordItem[]): Promise<unknown> => Promise.all(task.targets.map((t) => send(t, items)));
  for (;;) {
    const { items, next } = vn.handoffBatch(cursor, batchItemsMax);
    if (items.length > 0) await toAll(items);
    report.batches++;
    if (next === null) break;
    cursor = next;
    vn.handoffProgress(cursor);
  }
  for (let round = 0; ; round++) {
    await vn.flushed();
    // The check and the finish are one synchronous step: see the module header.
    if (vn.dirtyCount() === 0) {
      await vn.handoffFinished(dropNow());
      return report;
    }
    if (round >= dirtyRoundsMax) throw new HandoffError(`partition ${vn.partition} kept receiving writes during handoff; will retry`);
    const { items, marks } = vn.takeDirty(batchItemsMax);
    if (items.length > 0) await toAll(items);
    await vn.clearDirty(marks);
  }
}

export type VnodeMessage = VnodeCommand | VnodeControl;

export interface VnodeActorHooks {
  /** Starts a session for `task` (the host's handoff runner); called on the vnode's own turn. */
  startSession(vn: VnodeBehaviour, task: HandoffTask): void;
}

function handle(vn: VnodeBehaviour, msg: VnodeMessage, ctx: ActorContext<VnodeMessage>, hooks: VnodeActorHooks): VnodeBehaviour {
  switch (msg.c) {
    case 'session-start':
      hooks.startSession(vn, msg.task);
      return vn;
    case 'build-tick':
      vn.backgroundStep();
      return vn;
    case 'session-abandon':
      void vn.handoffAbandoned();
      return vn;
    default: {
      // A batched command (host.ts) carries its reply path; a single one is answered to its sender.
      const via = (msg as { via?: (r: unknown) => void }).via;
      if (via !== undefined) {
        vn.handleCommand(msg, via);
        return vn;
      }
      const sender = ctx.sender;
      const rid = (msg as { rid?: number }).rid;
      vn.handleCommand(msg, (r) => dispatch(sender, withRid(r, rid), ctx.self));
      return vn;
    }
  }
}

/** The actor behaviour of a vnode: waits until the behaviour is ready, then one message at a time. */
export function vnodeActor(hooks: VnodeActorHooks) {
  return (vn: VnodeBehaviour, msg: VnodeMessage, ctx: ActorContext<VnodeMessage>): VnodeBehaviour | Promise<VnodeBehaviour> => {
    if (vn.isReady) return handle(vn, msg, ctx, hooks);
    return vn.ready.then(() => handle(vn, msg, ctx, hooks));
  };
}
