/**
 * Active anti-entropy (Dynamo §4.7, riak_kv's AAE): replicas of a partition compare hash trees
 * (hashtree.ts) periodically and repair what differs, so that replicas converge even for keys
 * nobody reads and writes whose replication was lost (a crash after the quorum, a partition).
 *
 * One exchange, run by a node for a partition it owns, with another up owner:
 *   1. both trees' segment sums (`aae-tree`; skipped unless both trees are built);
 *   2. the differing segments, top-down (`diffSegments`), then both sides' key hashes in them
 *      (`aae-keys`), then the differing keys (`diffKeyHashes`), at most `keysMax`;
 *   3. both sides' records of those keys (`aae-fetch`), each sent to the other side to merge
 *      (`merge`): the repair goes both ways, and a side that lacks a key gets it.
 * I/O per exchange is bounded: two segment arrays, the key hashes of the differing segments
 * (in memory, no storage read), and at most `keysMax` records read and written per side. The
 * host runs one exchange per interval per node, so the bound holds per interval too.
 */
import { diffKeyHashes, diffSegments } from './hashtree.js';
import type { Ack, KeysReply, RecordsReply, TreeReply, VnodeCommand } from './messages.js';
import { splitSkey } from './messages.js';

export type Ask = <R>(node: string, cmd: VnodeCommand) => Promise<R>;

export class ExchangeError extends Error {
  override name = 'ExchangeError';
}

function ok<R extends { ok: boolean }>(r: R, what: string): Extract<R, { ok: true }> {
  if (!r.ok) throw new ExchangeError(`${what} failed: ${(r as unknown as { message: string }).message}`);
  return r as Extract<R, { ok: true }>;
}

/** Runs one exchange between `a` and `b` (module header); resolves with the records repaired. */
export async function runExchange(ask: Ask, a: string, b: string, keysMax: number, deadline: () => number): Promise<number> {
  const [ta, tb] = (await Promise.all([ask<TreeReply>(a, { c: 'aae-tree' }), ask<TreeReply>(b, { c: 'aae-tree' })])).map((r) => ok(r, 'aae-tree'));
  if (!ta!.ready || !tb!.ready || ta!.segments.length !== tb!.segments.length) return 0;
  const segments = diffSegments(Uint32Array.from(ta!.segments), Uint32Array.from(tb!.segments));
  if (segments.length === 0) return 0;
  const [ka, kb] = (await Promise.all([ask<KeysReply>(a, { c: 'aae-keys', segments }), ask<KeysReply>(b, { c: 'aae-keys', segments })])).map((r) => ok(r, 'aae-keys'));
  const keys = diffKeyHashes(ka!.keys, kb!.keys).slice(0, keysMax);
  if (keys.length === 0) return 0;
  const [ra, rb] = (await Promise.all([ask<RecordsReply>(a, { c: 'aae-fetch', skeys: keys }), ask<RecordsReply>(b, { c: 'aae-fetch', skeys: keys })])).map((r) => ok(r, 'aae-fetch'));
  const repairs: Promise<Ack>[] = [];
  const send = (node: string, skey: string, bytes: Uint8Array | null): void => {
    if (bytes === null) return;
    const [bucket, key] = splitSkey(skey);
    repairs.push(ask<Ack>(node, { c: 'merge', bucket, key, bytes, deadline: deadline() }));
  };
  ra!.records.forEach(([skey, bytes]) => send(b, skey, bytes));
  rb!.records.forEach(([skey, bytes]) => send(a, skey, bytes));
  const acks = await Promise.all(repairs);
  return acks.filter((x) => x.ok).length;
}
