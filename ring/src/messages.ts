/**
 * The messages of the stateful ring, between actors of one node and across nodes (over
 * ActorNet: plain data, refs and Uint8Array only, so none needs a wire registry entry).
 *
 * Two actors per node are addressed from other nodes, by fixed paths:
 * - `ring-manager` (manager.ts): ring gossip, staged changes, commits, transfer marks;
 * - `ring-vnodes` (host.ts): the vnode host, which routes each `VnodeCommand` to the vnode of
 *   its partition (creating it when a write arrives for a partition it holds no vnode of).
 *
 * Every reply is `{ ok: true, … }` or a `Failure` carrying a stable code and one sentence;
 * peers' input is validated by the receiver (`commandProblem`) and never throws into it.
 *
 * Every command carries a request id (`rid`) that its reply echoes; the asker refuses a reply
 * with another id (`askHost`). A query's temporary reply address is reused by a restarted
 * node (its ids start again), so a late reply to a request of the node's previous life could
 * otherwise be taken for the answer to a new one — a read of one key answered with another's.
 *
 * Commands that change data carry a `deadline` (the sender's wall clock, ms): a receiver refuses
 * one that arrives later than the deadline plus `clockSkewMaxMs`. A message held back in a
 * transport queue while a peer was unreachable therefore cannot apply a write, a replication
 * delta or a repair long after its request gave up — in particular not after the key's
 * tombstone was reaped, where it would bring the key back (reaper.ts).
 */
import { query, type ActorRef } from '@shoal/actors';
import type { Random } from '@shoal/runtime';
import type { RingData } from './ring.js';
import type { Filter } from './filter.js';
import type { HandoffTask } from './handoff-plan.js';
import type { ChangeRequest } from './plan.js';
import type { RingErrorCode } from './errors.js';
import type { Transfer, TransferState } from './transfers.js';

export const managerPath = ['ring-manager'] as const;
export const hostPath = ['ring-vnodes'] as const;

export interface Failure {
  readonly ok: false;
  readonly code: RingErrorCode;
  readonly message: string;
}

export function failure(code: RingErrorCode, message: string): Failure {
  return { ok: false, code, message };
}

/** A write as a coordinator receives it: field operations, or a delete. */
export type WriteOp = { readonly kind: 'update'; readonly ops: Readonly<Record<string, unknown>> } | { readonly kind: 'delete' };

/** [bucket, key, encoded record]. */
export type RecordItem = readonly [string, string, Uint8Array];

export type VnodeCommand =
  /** Read one record. → ReadReply */
  | { readonly c: 'get'; readonly bucket: string; readonly key: string }
  /** Merge a record or delta (replication, read repair, anti-entropy). → Ack after it is durable. */
  | { readonly c: 'merge'; readonly bucket: string; readonly key: string; readonly bytes: Uint8Array; readonly deadline: number; readonly standsFor?: string }
  /**
   * Coordinate a write: apply, persist, replicate, answer after W acks. → WriteReply.
   * `origin`: the asking node, itself a replica of the key, merges the delta on its own — the
   * coordinator sends it no merge command and returns the delta in its answer instead
   * (coordinator.ts, "the asker's copy").
   */
  | { readonly c: 'write'; readonly bucket: string; readonly key: string; readonly op: WriteOp; readonly w: number; readonly n: number; readonly timeoutMs: number; readonly deadline: number; readonly standsFor?: string; readonly origin?: string }
  /** One page of a coverage query. → FoldReply */
  | { readonly c: 'fold'; readonly bucket: string; readonly after: string | null; readonly limit: number; readonly filter: Filter | null; readonly values: boolean }
  /** Handoff data from another node. → Ack after it is durable. */
  | { readonly c: 'handoff'; readonly items: readonly RecordItem[]; readonly deadline: number }
  /** Anti-entropy: segment sums. → TreeReply */
  | { readonly c: 'aae-tree' }
  /** Anti-entropy: key hashes of segments. → KeysReply */
  | { readonly c: 'aae-keys'; readonly segments: readonly number[] }
  /** Anti-entropy: records by storage key (`bucket \0 key`). → RecordsReply */
  | { readonly c: 'aae-fetch'; readonly skeys: readonly string[] }
  /** Reaper: which of these tombstones (key, hash) do you hold exactly? → HeldReply */
  | { readonly c: 'reap-check'; readonly keys: readonly (readonly [string, number])[] }
  /** Reaper: drop these tombstones if you still hold exactly them. → Ack */
  | { readonly c: 'reap'; readonly keys: readonly (readonly [string, number])[] }
  /** Reaper: does this node hold data of the partition without owning it (fallback data)? → ForeignReply (answered by the host) */
  | { readonly c: 'foreign-check' };

export type Ack = { readonly ok: true } | Failure;
export type ReadReply = { readonly ok: true; readonly bytes: Uint8Array | null; readonly absent?: boolean } | Failure;
/**
 * `acks`: durable copies so far, the coordinator's included. `delta` (only to a write that named
 * its `origin`, when the coordinator left the origin's copy to it): what the origin merges; its
 * own durable copy is then one more acknowledgement.
 */
export type WriteReply = { readonly ok: true; readonly acks: number; readonly delta?: Uint8Array } | Failure;
export type FoldReply = { readonly ok: true; readonly items: readonly (readonly [string, Uint8Array | null])[]; readonly scannedTo: string | null } | Failure;
export type TreeReply = { readonly ok: true; readonly ready: boolean; readonly segments: readonly number[] } | Failure;
export type KeysReply = { readonly ok: true; readonly keys: readonly (readonly [string, number])[] } | Failure;
export type RecordsReply = { readonly ok: true; readonly records: readonly (readonly [string, Uint8Array | null])[] } | Failure;
export type HeldReply = { readonly ok: true; readonly held: readonly string[] } | Failure;
export type ForeignReply = { readonly ok: true; readonly holds: boolean } | Failure;

/** Messages to the vnode host. */
export type HostMessage =
  | { readonly t: 'cmd'; readonly p: number; readonly cmd: VnodeCommand; readonly rid: number }
  /** Commands batched by a node's mux (mux.ts): [request id, partition, command]; shapes checked per item. */
  | { readonly t: 'cmds'; readonly items: readonly (readonly [number, number, VnodeCommand])[] }
  | { readonly t: 'tick-handoff' }
  | { readonly t: 'tick-aae' }
  | { readonly t: 'tick-reap' }
  | { readonly t: 'ring-changed' }
  | { readonly t: 'session-ended'; readonly p: number; readonly task: HandoffTask; readonly ok: boolean; readonly error?: string }
  | { readonly t: 'dropped'; readonly p: number }
  | { readonly t: 'exchange-ended' }
  | { readonly t: 'reap-ended' };

/** Messages a vnode actor gets from its host (besides commands). */
export type VnodeControl = { readonly c: 'session-start'; readonly task: HandoffTask } | { readonly c: 'build-tick' } | { readonly c: 'session-abandon' };

/** Gossip and operator messages of the ring manager. */
export type ManagerMessage =
  | { readonly t: 'gossip'; readonly from: string; readonly ring: RingData; readonly transfers: TransferState }
  | { readonly t: 'digest'; readonly from: string; readonly cluster: string; readonly version: number; readonly hash: string; readonly done: number; readonly doneSum: number }
  | { readonly t: 'pull'; readonly from: string }
  | { readonly t: 'tick' }
  /** Send a digest to `node` (it came up), or to every gossip target (this node started). */
  | { readonly t: 'hello'; readonly node?: string }
  | { readonly t: 'stage'; readonly change: ChangeRequest }
  | { readonly t: 'plan' }
  | { readonly t: 'commit' }
  | { readonly t: 'clear' }
  | { readonly t: 'transfers-done'; readonly version: number; readonly hash: string; readonly transfers: readonly Transfer[] };

/** The storage key of a record inside a vnode: `bucket \0 key` (neither may hold a control character). */
export function skeyOf(bucket: string, key: string): string {
  return `${bucket}\u0000${key}`;
}

export function splitSkey(skey: string): [string, string] {
  const i = skey.indexOf('\u0000');
  return i < 0 ? ['', skey] : [skey.slice(0, i), skey.slice(i + 1)];
}

function isStr(x: unknown): x is string {
  return typeof x === 'string';
}

function isBytes(x: unknown): x is Uint8Array {
  return x instanceof Uint8Array;
}

function isKeyHashes(x: unknown, max: number): boolean {
  return Array.isArray(x) && x.length <= max && x.every((e) => Array.isArray(e) && e.length === 2 && isStr(e[0]) && Number.isInteger(e[1]));
}

/** Why a command from a peer is malformed, or undefined. Shapes only; the vnode checks the rest. */
export function commandProblem(cmd: unknown, limits: { readonly itemsMax: number; readonly keysMax: number }): string | undefined {
  if (typeof cmd !== 'object' || cmd === null) return 'a command must be an object';
  const c = cmd as Record<string, unknown>;
  switch (c['c']) {
    case 'get':
      return isStr(c['bucket']) && isStr(c['key']) ? undefined : 'get needs bucket and key';
    case 'merge':
      return isStr(c['bucket']) && isStr(c['key']) && isBytes(c['bytes']) && typeof c['deadline'] === 'number' && (c['standsFor'] === undefined || isStr(c['standsFor'])) ? undefined : 'merge needs bucket, key and bytes';
    case 'write': {
      const op = c['op'] as Record<string, unknown> | null | undefined;
      const opOk = typeof op === 'object' && op !== null && (op['kind'] === 'delete' || (op['kind'] === 'update' && typeof op['ops'] === 'object' && op['ops'] !== null));
      return isStr(c['bucket']) && isStr(c['key']) && opOk && Number.isInteger(c['w']) && Number.isInteger(c['n']) && typeof c['timeoutMs'] === 'number' && typeof c['deadline'] === 'number' && (c['standsFor'] === undefined || isStr(c['standsFor'])) && (c['origin'] === undefined || isStr(c['origin']))
        ? undefined
        : 'write needs bucket, key, op, w, n, timeoutMs and deadline (standsFor and origin, when given, strings)';
    }
    case 'fold':
      return isStr(c['bucket']) && (c['after'] === null || isStr(c['after'])) && Number.isInteger(c['limit']) && typeof c['values'] === 'boolean' ? undefined : 'fold needs bucket, after, limit and values';
    case 'handoff': {
      const items = c['items'];
      return Array.isArray(items) && typeof c['deadline'] === 'number' && items.length <= limits.itemsMax && items.every((i) => Array.isArray(i) && i.length === 3 && isStr(i[0]) && isStr(i[1]) && isBytes(i[2])) ? undefined : 'handoff needs items [bucket, key, bytes]';
    }
    case 'aae-tree':
    case 'foreign-check':
      return undefined;
    case 'aae-keys':
      return Array.isArray(c['segments']) && (c['segments'] as unknown[]).length <= limits.keysMax && (c['segments'] as unknown[]).every((s) => Number.isInteger(s)) ? undefined : 'aae-keys needs segments';
    case 'aae-fetch':
      return Array.isArray(c['skeys']) && (c['skeys'] as unknown[]).length <= limits.keysMax && (c['skeys'] as unknown[]).every(isStr) ? undefined : 'aae-fetch needs skeys';
    case 'reap-check':
    case 'reap':
      return isKeyHashes(c['keys'], limits.keysMax) ? undefined : `${String(c['c'])} needs keys [skey, hash]`;
    default:
      return `unknown command ${JSON.stringify(c['c'])}`;
  }
}

/** A reply that does not answer the request it arrived for (see the module header). */
export class StaleReplyError extends Error {
  override name = 'StaleReplyError';
}

/** Asks a node's vnode host for the reply to `cmd` on partition `p`; checks the reply's id. */
export async function askHost<R>(host: ActorRef<HostMessage>, p: number, cmd: VnodeCommand, timeoutMs: number, random: Random): Promise<R> {
  const rid = random.int(2 ** 48);
  const r = await query<R & { rid?: number }, HostMessage>(host, { t: 'cmd', p, cmd, rid }, timeoutMs);
  if (typeof r !== 'object' || r === null || r.rid !== rid) throw new StaleReplyError(`${host.node} answered another request (a late reply to this node's previous life?)`);
  return r;
}

/** A reply with the request id of the command it answers. */
export function withRid(reply: unknown, rid: number | undefined): unknown {
  return rid === undefined || typeof reply !== 'object' || reply === null ? reply : { ...reply, rid };
}
